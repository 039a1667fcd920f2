"""AssumeRole calls per hour for jobs on one role, through the operator's own AWS clients.

    python -m bench.assume_role --jobs 100 --hours 3 --out docs

Each job makes one ECS call a minute (moto in server mode answers it, with the assumed
credentials) for `hours` simulated hours. Time is simulated where botocore reads it (the
refreshable credentials' clock) and where STS sets it (the session's expiry), so hours pass in
seconds; STS is answered at its boundary by botocore's Stubber, since moto's expiry follows the
wall clock. What is counted is what the operator would send to STS.
"""

import argparse
import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.stub import Stubber
from dateutil.tz import tzutc
from moto.server import ThreadedMotoServer
from tests.e2e.harness import free_port

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.model.aws import AssumedRole, AwsScope

ROLE = AssumedRole("arn:aws:iam::222222222222:role/ecs-scheduler-target", "ecs-scheduler-team")


class SimulatedClock:
    def __init__(self) -> None:
        self.start = datetime.now(tzutc())
        self.minutes = 0

    def __call__(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


class SimulatedSts(AwsClients):
    """The operator's clients, with STS answering at its boundary in simulated time."""

    def __init__(self, clock: SimulatedClock, duration: int, **kwargs: Any) -> None:
        super().__init__(time_fetcher=clock, role_duration=duration, **kwargs)
        self._clock, self._duration = clock, duration

    def _sts_client(self, service: str, **kwargs: Any) -> Any:
        client = super()._sts_client(service, **kwargs)
        stub = Stubber(client)
        credentials = {"AccessKeyId": "ASIABENCHBENCHBENCH1", "SecretAccessKey": "s" * 40, "SessionToken": "t",
                       "Expiration": self._clock() + timedelta(seconds=self._duration)}  # fmt: skip
        user = {
            "AssumedRoleId": "AROABENCH:ecs-scheduler-team",
            "Arn": "arn:aws:sts::222222222222:assumed-role/x/y",
        }
        stub.add_response("assume_role", {"Credentials": credentials, "AssumedRoleUser": user})
        stub.activate()
        return client


def measure(jobs: int, hours: int, duration: int, endpoint: str) -> dict[str, Any]:
    clock, calls = SimulatedClock(), []
    clients = SimulatedSts(clock, duration, default_region="us-east-1", endpoint_url=endpoint, concurrency=1,
                           max_attempts=1, assume_roles=lambda arn, outcome: calls.append((clock.minutes, outcome)))  # fmt: skip
    ecs = clients.client("ecs", AwsScope("us-east-1", ROLE))
    started = time.perf_counter()
    try:
        for minute in range(hours * 60):
            clock.minutes = minute
            for _ in range(jobs):
                ecs.list_clusters()
    finally:
        clients.close()
    return {
        "jobs": jobs, "simulated_hours": hours, "session_seconds": duration, "ecs_calls": jobs * hours * 60,
        "assume_role_calls": len(calls), "per_hour": round(len(calls) / hours, 2),
        "at_minutes": [m for m, _ in calls], "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--hours", type=int, default=3)
    parser.add_argument("--durations", type=int, nargs="+", default=[3600, 1200])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "operator")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "operator")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        results = [measure(args.jobs, args.hours, d, f"http://127.0.0.1:{port}") for d in args.durations]
    finally:
        server.stop()
    for result in results:
        print(json.dumps({k: v for k, v in result.items() if k != "at_minutes"}))
    if args.out:
        (args.out / "bench-assume-role.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
