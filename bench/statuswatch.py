"""What a user sees: a watch on every ScheduledEcsJob, from outside the operator.

It records when each job's status first shows an estimatedNextRun (the operator has scheduled
it) and, for each new `lastRun`, how long after that scheduled instant the status showed it
(the status lag). The watch streams raw lines; only the fields read are looked at.
"""

import json
import threading
import time
from datetime import datetime
from typing import Any

from tests.e2e.harness import GROUP, PLURAL, VERSION, KubeCluster


def _instant(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class StatusWatch:
    def __init__(self, kube: KubeCluster) -> None:
        self._kube = kube
        self._lock = threading.Lock()
        self.scheduled_at: dict[str, float] = {}
        """job -> when its status first showed an estimatedNextRun."""
        self._last_run: dict[str, str] = {}
        self.lags: list[tuple[float, float]] = []
        """(when seen, seconds from the scheduled instant to the status showing it)."""
        self.modified = 0
        self._stop = threading.Event()
        listed = kube.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
        self._version = listed["metadata"]["resourceVersion"]
        for item in listed["items"]:
            self._observe(item, time.time(), watching=False)
        self._thread = threading.Thread(target=self._run, daemon=True, name="status-watch")
        self._thread.start()

    def _observe(self, item: dict[str, Any], seen: float, *, watching: bool) -> None:
        metadata, status = item["metadata"], item.get("status") or {}
        key = f"{metadata['namespace']}/{metadata['name']}"
        with self._lock:
            if status.get("estimatedNextRun") and key not in self.scheduled_at:
                self.scheduled_at[key] = seen
            last_run = status.get("lastRun")
            if last_run and last_run != self._last_run.get(key):
                if watching:  # a fire seen happening, not one found in the initial list
                    self.lags.append((seen, seen - _instant(last_run)))
                self._last_run[key] = last_run

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = self._kube.custom.list_cluster_custom_object(
                    GROUP, VERSION, PLURAL, watch=True, resource_version=self._version,
                    allow_watch_bookmarks=True, timeout_seconds=600, _preload_content=False,
                )  # fmt: skip
                buffer = b""
                for chunk in response.stream(65536):
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    seen = time.time()
                    for line in lines:
                        if line:
                            self._event(json.loads(line), seen)
                    if self._stop.is_set():
                        break
                response.release_conn()
            except Exception:
                if not self._stop.is_set():
                    time.sleep(0.5)

    def _event(self, event: dict[str, Any], seen: float) -> None:
        obj = event.get("object") or {}
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self._version = version
        if event.get("type") in ("ADDED", "MODIFIED"):
            self.modified += event["type"] == "MODIFIED"
            self._observe(obj, seen, watching=True)

    def lags_between(self, start: float, end: float) -> list[float]:
        with self._lock:
            return [lag for seen, lag in self.lags if start <= seen < end]

    def stop(self) -> None:
        self._stop.set()
