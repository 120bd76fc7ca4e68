"""Events and the odd corners of the wire, against tests/fake_merit.py (the real server has no
events yet)."""
import asyncio
import threading

import pytest

from merit_client import AsyncMerit, Event, Merit, ParseError, UnknownMethod


def test_sync_events_reach_callbacks_and_the_buffer(fake_merit):
    received = []
    done = threading.Event()

    def on_event(event):
        received.append(event)
        if len(received) == 4:
            done.set()

    with Merit(binary=fake_merit, api_key="mk_x", on_event=on_event, timeout=10) as merit:
        assert merit.events.subscribe() == {}
        assert merit.events.emit(count=3) == {"emitted": 3}
        assert done.wait(10)
        first = merit.next_event(timeout=5)
        assert isinstance(first, Event) and first.type == "subscribed" and first.sequence == 1
        assert first == {"id": first.id, "sequence": 1, "type": "subscribed", "created_at": first.created_at,
                         "actor_id": None, "data": {"n": 1}}
        assert [e.sequence for e in merit.drain_events()] == [2, 3, 4]
        assert merit.next_event(timeout=0.05) is None
        merit.events.emit(count=2)
        assert [e.sequence for e in merit.events(timeout=5)][:2] == [5, 6]
        with pytest.raises(UnknownMethod):
            merit.events.subscrbe
    assert [e.sequence for e in received] == [1, 2, 3, 4, 5, 6]
    assert list(merit.events()) == []  # over once the session is


def test_sync_callbacks_may_call_the_client(fake_merit):
    pings = []
    with Merit(binary=fake_merit, timeout=10) as merit:
        got = threading.Event()

        @merit.on_event
        def ping_back(event):
            pings.append(merit.ping())
            got.set()

        merit.events.emit(count=1)
        assert got.wait(10)
    assert pings == [{}]


def test_async_events(fake_merit):
    async def main():
        seen = []

        async def on_event(event):
            seen.append(event.sequence)

        async with AsyncMerit(binary=fake_merit, on_event=on_event, timeout=10) as merit:
            await merit.events.subscribe()
            await merit.events.emit(count=3)
            got = []
            async for event in merit.events():
                got.append(event.sequence)
                if len(got) == 4:
                    break
            assert got == [1, 2, 3, 4]
            assert await merit.next_event(timeout=0.05) is None
            await merit.events.emit(count=1)
            assert (await merit.next_event(timeout=5)).sequence == 5
            # An iterator ends when the session does.
            waiting = asyncio.ensure_future(_collect(merit.events()))
            await asyncio.sleep(0)
        assert await asyncio.wait_for(waiting, 5) == []
        assert seen == [1, 2, 3, 4, 5]

    asyncio.run(asyncio.wait_for(main(), 30))


async def _collect(iterator):
    return [event async for event in iterator]


def test_events_buffer_is_bounded(fake_merit):
    with Merit(binary=fake_merit, event_buffer=3, timeout=10) as merit:
        merit.events.emit(count=5)
        merit.ping()  # events are written after the response; the ping's answer comes after them
        assert [e.sequence for e in merit.drain_events()] == [3, 4, 5]
        assert merit.dropped_events == 2


def test_an_id_null_error_fails_the_oldest_request(fake_merit):
    with Merit(binary=fake_merit, timeout=10) as merit:
        with pytest.raises(ParseError):
            merit.call("fake.null_error")
        assert merit.pending_requests == 0
        assert merit.call("fake.garbage") == "after garbage"  # a line that is not JSON is skipped
        assert merit.ping() == {}


def test_async_id_null_error(fake_merit):
    async def main():
        async with AsyncMerit(binary=fake_merit, timeout=10) as merit:
            with pytest.raises(ParseError):
                await merit.call("fake.null_error")
            assert await merit.ping() == {}

    asyncio.run(asyncio.wait_for(main(), 30))
