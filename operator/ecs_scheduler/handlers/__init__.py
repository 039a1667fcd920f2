"""kopf handlers: thin, no logic. Importing `ecs_scheduler.handlers.watch` registers them."""
