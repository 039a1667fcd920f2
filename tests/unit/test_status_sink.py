"""The status sink: merged per job, written by deadline, one write per job in flight, retried."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ecs_scheduler.adapters.kube import ObjectGone
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.status_sink import StatusSink

A, B, C = JobKey("team", "a"), JobKey("team", "b"), JobKey("team", "c")


class Writer:
    """Records patches; `hold` keeps writes in flight until released; `fail` makes the next ones fail."""

    def __init__(self) -> None:
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.hold: asyncio.Event | None = None
        self.fail: list[Exception] = []

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            if self.fail:
                raise self.fail.pop(0)
            self.patches.append((name, dict(status)))
        finally:
            self.in_flight -= 1


def run(test: Callable[[StatusSink, Writer, Metrics], Awaitable[None]], concurrency: int = 4) -> None:
    async def main() -> None:
        writer, metrics = Writer(), Metrics()
        sink = StatusSink(writer, metrics, concurrency=concurrency)  # type: ignore[arg-type]
        try:
            await test(sink, writer, metrics)
        finally:
            sink.cancel()

    asyncio.run(main())


def test_changes_made_together_are_one_patch_latest_winning() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        sink.write(A, {"lastRun": "1", "active": ["x"]})
        sink.write(A, {"active": []})
        await sink.drain(1)
        assert writer.patches == [("a", {"lastRun": "1", "active": []})]

    run(test)


def test_a_deferred_change_waits_and_rides_with_the_next_urgent_one() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        sink.write(A, {"history": ["ended"]}, within=0.3)
        await asyncio.sleep(0.1)
        assert writer.patches == [], "not due yet"
        sink.write(A, {"lastRun": "2"})  # the next fire: urgent
        await asyncio.sleep(0.05)
        assert writer.patches == [("a", {"history": ["ended"], "lastRun": "2"})]
        await asyncio.sleep(0.4)
        assert len(writer.patches) == 1, "nothing left to write at the old deadline"

    run(test)


def test_a_deferred_change_is_written_by_its_deadline_on_its_own() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        sink.write(A, {"history": ["ended"]}, within=0.1)
        await asyncio.sleep(0.25)
        assert writer.patches == [("a", {"history": ["ended"]})]

    run(test)


def test_one_write_per_job_in_flight_and_a_later_change_after_it() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        writer.hold = asyncio.Event()
        sink.write(A, {"lastRun": "1"})
        await asyncio.sleep(0.01)
        sink.write(A, {"lastRun": "2"})
        await asyncio.sleep(0.05)
        assert writer.most_in_flight == 1
        writer.hold.set()
        await sink.drain(1)
        assert writer.patches == [("a", {"lastRun": "1"}), ("a", {"lastRun": "2"})]

    run(test)


def test_writes_in_flight_are_bounded_and_the_earliest_due_goes_first() -> None:
    async def test(sink: StatusSink, writer: Writer, metrics: Metrics) -> None:
        writer.hold = asyncio.Event()
        sink.write(A, {"n": 1})
        sink.write(B, {"n": 2}, within=0.05)
        sink.write(C, {"n": 3})
        await asyncio.sleep(0.1)
        assert writer.most_in_flight == 1
        values = {m.name: s.value for m in metrics.registry.collect() for s in m.samples}
        assert values["ecs_scheduler_status_backlog"] == 2, "B and C are due and wait for the one writer"
        assert values["ecs_scheduler_status_backlog_age_seconds"] > 0
        writer.hold.set()
        await sink.drain(1)
        assert [name for name, _ in writer.patches] == ["a", "c", "b"], "C was due before B"

    run(test, concurrency=1)


def test_a_failed_write_is_retried_with_what_came_meanwhile() -> None:
    async def test(sink: StatusSink, writer: Writer, metrics: Metrics) -> None:
        writer.fail = [ConnectionError("API server unreachable")]
        sink.write(A, {"lastRun": "1", "active": ["x"]})
        await asyncio.sleep(0.05)
        sink.write(A, {"active": []})
        await asyncio.sleep(0.6)  # the first retry delay is 0.5 s
        assert writer.patches == [("a", {"lastRun": "1", "active": []})]
        values = {s.name: s.value for m in metrics.registry.collect() for s in m.samples}
        assert values["ecs_scheduler_status_write_errors_total"] == 1

    run(test)


def test_a_deleted_job_is_not_written_again() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        writer.fail = [ObjectGone("team/a")]
        sink.write(A, {"lastRun": "1"})
        await sink.drain(1)
        await asyncio.sleep(0.6)
        assert writer.patches == []

    run(test)


def test_drain_writes_deferred_changes_at_once() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        sink.write(A, {"history": ["ended"]}, within=60)
        await sink.drain(1)
        assert writer.patches == [("a", {"history": ["ended"]})]

    run(test)


def test_landed_waits_for_the_write_that_carries_the_change_retries_included() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        assert sink.landed(A).done(), "nothing pending: what was written has landed"
        writer.fail = [RuntimeError("API server away")]
        sink.write(A, {"history": [1]})
        landed = sink.landed(A)
        await asyncio.sleep(0.1)
        assert not landed.done() and writer.patches == [], "the first write failed"
        await asyncio.wait_for(landed, 5)
        assert writer.patches == [("a", {"history": [1]})]

    run(test)


def test_landed_is_done_when_the_object_is_gone() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        writer.fail = [ObjectGone("deleted")]
        sink.write(B, {"history": [1]})
        await asyncio.wait_for(sink.landed(B), 5)

    run(test)


def test_landed_waits_for_the_write_in_flight_when_nothing_else_is_pending() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        writer.hold = asyncio.Event()
        sink.write(C, {"history": [1]})
        await asyncio.sleep(0.05)
        assert writer.in_flight == 1
        landed = sink.landed(C)
        await asyncio.sleep(0.05)
        assert not landed.done(), "the write carrying the change has not landed yet"
        writer.hold.set()
        await asyncio.wait_for(landed, 5)
        assert writer.patches == [("c", {"history": [1]})]

    run(test)


def test_a_job_deleted_while_its_write_waits_for_a_writer_stops_no_other_write() -> None:
    async def test(sink: StatusSink, writer: Writer, _: Metrics) -> None:
        writer.hold = asyncio.Event()
        sink.write(A, {"n": 1})  # takes the one writer
        await asyncio.sleep(0.01)
        sink.write(B, {"n": 2})  # due, waits for the writer
        await asyncio.sleep(0.01)
        sink.forget(B)  # deleted meanwhile
        sink.write(C, {"n": 3})
        writer.hold.set()
        await sink.drain(1)
        assert [name for name, _ in writer.patches] == ["a", "c"], "C is written, B is not"

    run(test, concurrency=1)
