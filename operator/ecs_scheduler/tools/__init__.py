"""Offline tools of the `ecs-scheduler` command: validate, plan, import."""
