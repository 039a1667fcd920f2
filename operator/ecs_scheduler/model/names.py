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

RUN_KIND = "ScheduledEcsJobRun"
RUN_PLURAL = "scheduledecsjobruns"
RUN_SINGULAR = "scheduledecsjobrun"
RUN_SHORT_NAMES = ("sejr",)
RUN_CRD_NAME = f"{RUN_PLURAL}.{GROUP}"

JOB_TAG = f"{GROUP}/job"
SCHEDULED_AT_TAG = f"{GROUP}/scheduled-at"
RUN_NOW_ANNOTATION = f"{GROUP}/run-now"
"""Setting this annotation to a new value starts one run at once."""
RESUME_AFTER_ANNOTATION = f"{GROUP}/resume-after"
"""The last instant of the job that ran elsewhere (the classic ECS Scheduler's lastRun, written by
`ecs-scheduler import`): until the job has fired here, its schedule resumes after this instant."""
CLASSIC_ID_ANNOTATION = f"{GROUP}/classic-id"
"""The job's id in the classic ECS Scheduler it was imported from."""

USER_AGENT = f"ecs-scheduler/{__version__}"
"""How the operator names itself to Kubernetes (audit logs, the tests' request record tell its
requests apart by it) and to AWS (CloudTrail)."""

MANAGED_FAMILY_PREFIX = "ecs-scheduler_"
"""Task definition families the operator registers for container jobs start with this."""
CONTENT_HASH_TAG = f"{GROUP}/content-hash"
"""On a registered task definition: the hash of what was registered, so an identical container
spec finds its revision again instead of registering a new one."""
