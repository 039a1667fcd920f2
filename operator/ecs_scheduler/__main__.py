import sys

from ecs_scheduler.cli import main

sys.exit(main())
