"""Adapters to the outside world (ECS, Kubernetes), each behind a small Protocol."""
