"""Where the operator's CPU goes, from py-spy's collapsed stacks (`--format raw`).

    python -m bench.profile_summary docs/profile/operator-10000.txt

Each sample is charged to one activity: the first in ACTIVITIES with a frame anywhere in the
sample's stack (so a status write is charged as such, not to the kubernetes client or the event
loop it runs in). Shares add up to 100 % of the samples (with `--gil`: of the CPU the operator's
Python code used).
"""

import argparse
import collections
from pathlib import Path

ACTIVITIES = (
    # (activity, substrings of a frame that mark it), in order of precedence
    ("Events", ("runtime/events.py", "create_event", "patch_event")),
    ("status writes", ("status_sink.py", "patch_status", "adapters/kube", "kubehttp.py")),
    ("RunTask and other ECS calls (boto3)", ("botocore/", "boto3/", "adapters/ecs.py")),
    ("watch events: our handler", ("handlers/watch.py",)),
    (
        "run lifecycle and tracking",
        (
            "lifecycle.py",
            "tracker.py",
            "launching.py",
            "following.py",
            "conclusion.py",
            "records.py",
            "retries.py",
            "definitions.py",
            "concurrency.py",
            "triggering.py",
            "orphans.py",
            "status_shape.py",
        ),
    ),
    ("scheduler loop and fires", ("scheduler.py", "firing.py", "intake.py", "timetable.py")),
    ("watch events: kopf", ("kopf/",)),
    ("leader election", ("election.py", "adapters/lease.py")),
    ("Kubernetes client (other)", ("kubernetes/client", "urllib3/")),
    ("metrics", ("prometheus_client",)),
    ("garbage collection", ("collector.py",)),
    ("thread pools", ("concurrent/futures",)),
    ("event loop", ("asyncio/", "selectors.py")),
)


def charge(stack: str) -> str:
    for activity, marks in ACTIVITIES:
        if any(mark in stack for mark in marks):
            return activity
    return "other: " + stack.rsplit(";", 1)[-1].split(" (")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--functions", type=int, default=25, help="also list the hottest leaf functions")
    args = parser.parse_args()
    shares: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        shares[charge(stack)] += int(count)
        leaves[stack.split(";")[-1]] += int(count)
    total = sum(shares.values())
    for activity, samples in shares.most_common():
        print(f"{100 * samples / total:5.1f} %  {activity}")
    print(f"\n{total} samples; hottest leaf frames:")
    for frame, samples in leaves.most_common(args.functions):
        print(f"{100 * samples / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
