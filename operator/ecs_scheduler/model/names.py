"""Names that are part of the public contract of the ScheduledEcsJob API."""

from ecs_scheduler import __version__

GROUP = "ecs-scheduler.dev"
VERSION = "v1alpha1"
KIND = "ScheduledEcsJob"
PLURAL = "scheduledecsjobs"
SINGULAR = "scheduledecsjob"
SHORT_NAMES = ("sej",)
CATEGORIES = ("ecs-scheduler",)
CRD_NAME = f"{PLURAL}.{GROUP}"

JOB_TAG = f"{GROUP}/job"
SCHEDULED_AT_TAG = f"{GROUP}/scheduled-at"
RUN_NOW_ANNOTATION = f"{GROUP}/run-now"
"""Setting this annotation to a new value starts one run at once."""

USER_AGENT = f"ecs-scheduler/{__version__}"
"""How the operator names itself to Kubernetes (audit logs, the tests' request record tell its
requests apart by it) and to AWS (CloudTrail)."""
