"""`python -m ecs_scheduler.sej`: what the krew launcher runs."""

import sys

from ecs_scheduler.sej.main import main

sys.exit(main())
