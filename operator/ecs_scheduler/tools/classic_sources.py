"""Where a classic ECS Scheduler keeps its jobs: its REST API, or one of its job stores.

Each reader yields the jobs as the classic stores them (a JSON object with the job's `id`). The
REST API also gives `lastRun`, which the classic keeps only in memory: read it from the live
service after suspending its jobs, for a cut-over that neither repeats nor skips an instant.
"""

import json
import posixpath
import sqlite3
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

PAGE = 100


def from_rest(base_url: str, *, page: int = PAGE, timeout: float = 30) -> Iterator[dict[str, Any]]:
    """`GET /jobs?skip=N&count=M`, page by page until the answer has no `next` link."""
    skip = 0
    while True:
        query = urllib.parse.urlencode({"skip": skip, "count": page})
        url = f"{base_url.rstrip('/')}/jobs?{query}"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            answer = json.load(response)
        jobs = answer.get("jobs") or []
        yield from jobs
        if not answer.get("next") or not jobs:
            return
        skip += len(jobs)


def from_sqlite(path: str) -> Iterator[dict[str, Any]]:
    """The classic's SQLiteStore: table `jobs(id TEXT PRIMARY KEY, data JSONTEXT)`."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for job_id, data in connection.execute("SELECT id, data FROM jobs ORDER BY id"):
            yield {**json.loads(data), "id": job_id}
    finally:
        connection.close()


def from_s3(uri: str, client: Any) -> Iterator[dict[str, Any]]:
    """The classic's S3Store: one `<prefix>/<id>.json` object per job (`s3://bucket/prefix`)."""
    parsed = urllib.parse.urlparse(uri)
    bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
    folder = prefix.rstrip("/")
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for summary in page.get("Contents") or []:
            directory, file = posixpath.split(summary["Key"])
            job_id, extension = posixpath.splitext(file)
            if directory != folder or extension != ".json":
                continue  # the classic reads only the prefix's own .json objects
            body = client.get_object(Bucket=bucket, Key=summary["Key"])["Body"].read()
            yield {**json.loads(body), "id": job_id}


def from_dynamodb(table: str, client: Any) -> Iterator[dict[str, Any]]:
    """The classic's DynamoDBStore: items `{job-id: S, json-data: S}`."""
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items") or []:
            yield {**json.loads(item["json-data"]["S"]), "id": item["job-id"]["S"]}
