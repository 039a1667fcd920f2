"""A stand-in of the classic ECS Scheduler's REST API and job stores, built from its documented format.

Jobs are kept as the classic keeps them: the stored JSON (what its job schema dumps: no `id`, which
is the store's key, and the `?` wildcards of second, minute and hour already resolved at creation),
plus what its REST API adds (`id`, `link`, and the in-memory `lastRun`, `lastRunTasks`,
`estimatedNextRun`). `GET /jobs?skip=&count=` pages as the classic does, with `prev`/`next` links.
"""

import json
import random
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

RUNTIME_FIELDS = ("lastRun", "lastRunTasks", "estimatedNextRun")
WILDCARD_RANGES = (range(60), range(60), range(24))  # second, minute, hour: where `?` may stand


def resolve_wildcards(schedule: str, rng: random.Random) -> str:
    """The classic's creation step: each `?` in second, minute or hour becomes one random value."""
    parts = schedule.split()
    for index, choices in enumerate(WILDCARD_RANGES):
        if index < len(parts) and parts[index] == "?":
            parts[index] = str(rng.choice(choices))
    return " ".join(parts)


def create(request: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A job as the classic stores it after `POST /jobs`: id defaulting to taskDefinition, taskCount to 1."""
    job = dict(request)
    job.setdefault("id", job["taskDefinition"])
    job.setdefault("taskCount", 1)
    job["schedule"] = resolve_wildcards(job["schedule"], rng)
    return job


def stored(job: dict[str, Any]) -> dict[str, Any]:
    """What the job store holds for a job: everything but its id and what lives only in memory."""
    return {k: v for k, v in job.items() if k != "id" and k not in RUNTIME_FIELDS}


class _Api(BaseHTTPRequestHandler):
    jobs: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/jobs":
            self.send_error(404)
            return
        query = parse_qs(url.query)
        skip = max(0, int(query.get("skip", ["0"])[0]))
        count = max(0, int(query.get("count", ["10"])[0]))
        page = [{**job, "link": {"rel": "item", "title": f"Job for {job['id']}", "href": f"/jobs/{job['id']}"}}
                for job in self.jobs[skip : skip + count]]  # fmt: skip
        answer: dict[str, Any] = {"jobs": page}
        if skip > 0:
            answer["prev"] = "/jobs?" + urlencode({"skip": max(0, skip - count), "count": count})
        if skip + count < len(self.jobs):
            answer["next"] = "/jobs?" + urlencode({"skip": skip + count, "count": count})
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def rest_api(jobs: list[dict[str, Any]]) -> Iterator[str]:
    """The classic's web API on a free local port; yields its base URL."""
    handler = type("Api", (_Api,), {"jobs": jobs})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sqlite_store(path: Path, jobs: list[dict[str, Any]]) -> Path:
    """The classic's SQLiteStore file: `jobs(id TEXT PRIMARY KEY NOT NULL, data JSONTEXT NOT NULL)`."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS jobs(id TEXT PRIMARY KEY NOT NULL, data JSONTEXT NOT NULL)"
        )
        connection.executemany(
            "INSERT INTO jobs VALUES (?, ?)", [(j["id"], json.dumps(stored(j), sort_keys=True)) for j in jobs]
        )
    connection.close()
    return path


def s3_store(client: Any, bucket: str, prefix: str, jobs: list[dict[str, Any]]) -> None:
    """The classic's S3Store: `<prefix>/<id>.json`, the stored JSON sorted by key."""
    client.create_bucket(Bucket=bucket)
    for job in jobs:
        key = f"{prefix.rstrip('/')}/{job['id']}.json" if prefix else f"{job['id']}.json"
        client.put_object(Bucket=bucket, Key=key, Body=json.dumps(stored(job), sort_keys=True).encode())
    client.put_object(Bucket=bucket, Key=f"{prefix}/notes.txt", Body=b"not a job")  # the classic skips it


def dynamodb_store(client: Any, table: str, jobs: list[dict[str, Any]]) -> None:
    """The classic's DynamoDBStore: hash key `job-id`, the stored JSON in `json-data`."""
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "job-id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job-id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for job in jobs:
        client.put_item(TableName=table, Item={"job-id": {"S": job["id"]},
                                               "json-data": {"S": json.dumps(stored(job), sort_keys=True)}})  # fmt: skip


def classic_jobs(seed: int = 7) -> list[dict[str, Any]]:
    """Jobs covering every field of the classic's job, created through its rules."""
    rng = random.Random(seed)
    requests: list[dict[str, Any]] = [
        {"taskDefinition": "sleeper-task", "schedule": "25 */5"},
        {"taskDefinition": "sleeper-task", "id": "long-sleep-task", "schedule": "? */7",
         "overrides": [{"containerName": "drmonkeysee-task", "environment": {"SLEEP_SECONDS": "10"}}]},
        {"taskDefinition": "report", "id": "Nightly_Report", "schedule": "? ? 3 mon-fri", "timezone": "europe/berlin",
         "taskCount": 3, "maxCount": 5},
        {"taskDefinition": "billing", "schedule": "0 0 9 * * 2nd_mon", "timezone": "America/New_York",
         "scheduleStart": "2026-12-01T00:00:00-05:00", "scheduleEnd": "2027-12-31T23:59:59-05:00"},
        {"taskDefinition": "month-end", "schedule": "0 30 23 * * last", "timezone": "US/Pacific"},
        {"taskDefinition": "last-friday", "schedule": "0 0 12 * * last_fri", "scheduleStart": "2026-06-01T08:00:00"},
        {"taskDefinition": "consumer", "schedule": "*/30", "taskCount": 1, "maxCount": 20,
         "trigger": {"type": "sqs", "queueName": "work-queue", "messagesPerTask": 10}},
        {"taskDefinition": "drain", "schedule": "0 */2", "taskCount": 2,
         "trigger": {"type": "sqs", "queueName": "drain-queue"}},
        {"taskDefinition": "paused", "schedule": "0 0 * * * * * 2027-2030", "suspended": True},
        {"taskDefinition": "weekly", "schedule": "0 15 10 sun 1-52/2", "timezone": "Asia/Kolkata"},
        {"taskDefinition": "dst", "schedule": "0 30 2 * * * 3", "timezone": "Europe/Berlin"},
        # A naive start from before 2017-07: local time in the job's zone, as APScheduler read it.
        {"taskDefinition": "tokyo-hourly", "schedule": "0 0", "timezone": "Asia/Tokyo",
         "scheduleStart": "2026-12-05T08:00:00"},
        {"taskDefinition": "quarter", "schedule": "0 0 6 * * 1 1,4,7,10", "scheduleEnd": "2030-01-01T00:00:00+00:00"},
    ]  # fmt: skip
    jobs = [create(request, rng) for request in requests]
    # What the REST API adds from memory: the last run of a few jobs.
    jobs[0]["lastRun"] = "2026-12-03T21:35:25+00:00"
    jobs[0]["lastRunTasks"] = [
        {"taskId": "arn:aws:ecs:us-east-1:123456789012:task/default/abc", "hostId": "i-1"}
    ]
    jobs[0]["estimatedNextRun"] = "2026-12-03T21:40:25+00:00"
    jobs[2]["lastRun"] = (
        "2026-12-03T03:"
        + jobs[2]["schedule"].split()[1].zfill(2)
        + ":"
        + jobs[2]["schedule"].split()[0].zfill(2)
        + "+01:00"
    )
    return jobs
