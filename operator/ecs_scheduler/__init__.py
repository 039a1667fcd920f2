"""ecs-scheduler: a Kubernetes operator that runs AWS ECS tasks on schedules."""

__version__ = "0.1.0"
