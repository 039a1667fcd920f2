"""Delivery slots: a destination that hangs holds few of them, and namespaces take turns."""

import asyncio

from ecs_scheduler.runtime.fair_slots import FairSlots, SlotLimits


def test_hanging_deliveries_of_one_tenant_leave_slots_for_another() -> None:
    async def scenario() -> tuple[list[str], int]:
        slots = FairSlots(SlotLimits(total=8, per_namespace=4, per_destination=2))
        hang = asyncio.Event()
        order: list[str] = []

        async def deliver(namespace: str, destination: str, name: str, *, hangs: bool) -> None:
            async with slots.slot(namespace, destination):
                order.append(name)
                if hangs:
                    await hang.wait()

        hanging = [asyncio.create_task(deliver("team-a", "dead.example.com", f"dead-{i}", hangs=True))
                   for i in range(8)]  # fmt: skip
        await asyncio.sleep(0)
        await asyncio.wait_for(deliver("team-b", "alive.example.com", "healthy", hangs=False), timeout=1)
        busy = slots.in_flight()
        hang.set()
        await asyncio.gather(*hanging)
        return order, busy

    order, busy = asyncio.run(scenario())
    assert order[:3] == ["dead-0", "dead-1", "healthy"]  # two of the dead endpoint's eight, then healthy
    assert busy == 2
    assert sorted(order) == sorted([f"dead-{i}" for i in range(8)] + ["healthy"])


def test_freed_slots_go_to_waiting_namespaces_in_turn() -> None:
    async def scenario() -> list[str]:
        slots = FairSlots(SlotLimits(total=1, per_namespace=1, per_destination=1))
        gate = asyncio.Event()
        order: list[str] = []

        async def deliver(namespace: str, name: str) -> None:
            async with slots.slot(namespace, name):
                order.append(name)
                await gate.wait()

        first = asyncio.create_task(deliver("a", "a0"))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(deliver(ns, f"{ns}{i}")) for ns, i in
                   [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("c", 1)]]  # fmt: skip
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(first, *waiting)
        return order

    assert asyncio.run(scenario()) == ["a0", "a1", "b1", "c1", "a2", "a3"]


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    async def scenario() -> int:
        slots = FairSlots(SlotLimits(total=1, per_namespace=1, per_destination=1))
        gate = asyncio.Event()

        async def hold() -> None:
            async with slots.slot("a", "x"):
                await gate.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter = asyncio.create_task(hold())
        await asyncio.sleep(0)
        waiter.cancel()
        gate.set()
        await holder
        await asyncio.gather(waiter, return_exceptions=True)
        return slots.in_flight()

    assert asyncio.run(scenario()) == 0
