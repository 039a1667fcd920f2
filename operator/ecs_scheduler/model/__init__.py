"""The API contract: the ScheduledEcsJob resource, its status and the operator's settings."""
