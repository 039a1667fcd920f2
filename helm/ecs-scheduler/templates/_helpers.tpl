{{- define "ecs-scheduler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ecs-scheduler.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ecs-scheduler.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ecs-scheduler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ecs-scheduler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecs-scheduler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ecs-scheduler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecs-scheduler.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "true" when the operator needs cluster-wide rights: all namespaces, or namespace patterns.
With plain names only, the operator neither lists namespaces nor watches CRDs (kopf's scanning
is off), and a Role in each namespace is all it needs. */}}
{{- define "ecs-scheduler.clusterScoped" -}}
{{- if or (empty .Values.watchNamespaces) (include "ecs-scheduler.namespacePatterns" .) }}true{{ end }}
{{- end }}

{{/* "true" when a watchNamespaces entry is a glob (kopf's fnmatch: * ? [) or an exclusion (!). */}}
{{- define "ecs-scheduler.namespacePatterns" -}}
{{- range .Values.watchNamespaces }}
{{- if or (contains "*" .) (contains "?" .) (contains "[" .) (hasPrefix "!" .) }}true{{ end }}
{{- end }}
{{- end }}

{{/* The rules on the operator's own resources, shared by the ClusterRole and the Roles. */}}
{{- define "ecs-scheduler.jobRules" -}}
- apiGroups: [ecs-scheduler.dev]
  resources: [scheduledecsjobs]
  verbs: [list, watch]
- apiGroups: [ecs-scheduler.dev]
  resources: [scheduledecsjobs/status]
  verbs: [patch]
# Runs on demand: owned by their job (patch sets the owner), deleted after their time to live.
- apiGroups: [ecs-scheduler.dev]
  resources: [scheduledecsjobruns]
  verbs: [list, watch, patch, delete]
- apiGroups: [ecs-scheduler.dev]
  resources: [scheduledecsjobruns/status]
  verbs: [patch]
# Events: created, and patched with the count of a repeated Normal event.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.notifications.webhooks.enabled }}
# Webhook notifications sign with a key from a Secret in the job's namespace.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end }}
{{- end }}

{{/*
ECS rate limits as the operator's flag takes them: "RunTask=20/50,DescribeTasks=10/20".
*/}}
{{- define "ecs-scheduler.rateLimits" -}}
{{- $entries := list -}}
{{- range $api, $limit := . -}}
{{- $entries = append $entries (printf "%s=%v" $api $limit) -}}
{{- end -}}
{{- join "," $entries -}}
{{- end -}}

{{/* The webhook's namespaceSelector, following watchNamespaces: names become In, `!name`
NotIn. A glob cannot be a label selector: then every namespace calls the webhook, and the
operator allows at once what it does not serve (it matches globs as it watches). */}}
{{- define "ecs-scheduler.admissionNamespaceSelector" -}}
{{- $names := list }}{{- $excluded := list }}{{- $globs := false }}
{{- range .Values.watchNamespaces }}
{{- if hasPrefix "!" . }}
{{- $name := trimPrefix "!" . }}
{{- if or (contains "*" $name) (contains "?" $name) (contains "[" $name) }}{{ $globs = true }}{{ else }}{{ $excluded = append $excluded $name }}{{ end }}
{{- else if or (contains "*" .) (contains "?" .) (contains "[" .) }}
{{- $globs = true }}
{{- else }}
{{- $names = append $names . }}
{{- end }}
{{- end }}
{{- if or (and $names (not $globs)) $excluded }}
namespaceSelector:
  matchExpressions:
    {{- if and $names (not $globs) }}
    - key: kubernetes.io/metadata.name
      operator: In
      values: {{ toJson $names }}
    {{- end }}
    {{- if $excluded }}
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ toJson $excluded }}
    {{- end }}
{{- else }}
namespaceSelector: {}
{{- end }}
{{- end }}
