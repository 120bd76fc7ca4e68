"""The asyncio client against the real binary."""
import asyncio
import os

import pytest

from conftest import is_reaped, resume, stop
from merit_client import (AsyncMerit, AuthenticationRequired, ClientClosed, MethodNotFound, NotFound,
                          PermissionDenied, UnknownMethod, ValidationError)


def run(coroutine, timeout=60):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def test_initialize_create_and_read(org):
    async def main():
        async with AsyncMerit(org.data, org.api_key) as merit:
            assert merit.principal["name"] == "admin"
            assert merit.initialize_result["organization"]["id"] == org.organization_id
            ada = await merit.people.create(name="Ada", email="ada@example.org", role="manager")
            assert await merit.people.get(id=ada["id"]) == ada
            assert (await merit.call("people.list", {"role": "manager"}))["data"] == [ada]
            assert await merit.call("$/ping") == {}
        return merit

    merit = run(main())
    assert merit.returncode == 0 and is_reaped(merit.pid)


def test_unauthenticated_then_initialize(org):
    async def main():
        async with AsyncMerit(org.data) as merit:
            assert merit.principal is None
            with pytest.raises(AuthenticationRequired):
                await merit.organization.get()
            await merit.initialize(api_key=org.api_key)
            assert merit.principal["name"] == "admin"

    run(main())


def test_errors(org):
    async def main():
        async with AsyncMerit(org.data, org.api_key) as merit:
            with pytest.raises(ValidationError) as caught:
                await merit.people.create(name="Nobody", email="nobody", role="employee")
            assert caught.value.fields == ["email"] and caught.value.status == 400
            with pytest.raises(NotFound) as caught:
                await merit.people.get(id="emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ")
            assert caught.value.status == 404
            with pytest.raises(MethodNotFound):
                await merit.call("people.nope")
            with pytest.raises(UnknownMethod) as caught:
                merit.people.nope  # raises at once: nothing to await, nothing sent
            assert merit.pending_requests == 0
            reader = await merit.keys.create(name="reader", scopes=["directory:read"])
            await merit.initialize(api_key=reader["key"])
            with pytest.raises(PermissionDenied) as caught:
                await merit.people.create(name="Ada", email="ada@example.org", role="manager")
            assert caught.value.status == 403

    run(main())


def test_a_typo_raises_before_sending(org):
    async def main():
        async with AsyncMerit(org.data, org.api_key) as merit:
            with pytest.raises(UnknownMethod) as caught:
                merit.peopel.list()
            assert caught.value.suggestions[0] == "people"
            assert merit.pending_requests == 0

    run(main())


def test_100_concurrent_calls_are_pipelined(org):
    async def main():
        async with AsyncMerit(org.data, org.api_key) as merit:
            people = [await merit.people.create(name=f"P{n}", email=f"p{n}@example.org", role="employee")
                      for n in range(10)]
            # Hold the server still so that all 100 requests are provably in flight at once.
            stop(merit.pid)
            try:
                tasks = [asyncio.ensure_future(merit.people.get(id=people[n % 10]["id"])) for n in range(100)]
                while merit.pending_requests < 100:
                    await asyncio.sleep(0)
            finally:
                resume(merit.pid)
            got = await asyncio.gather(*tasks)
            assert got == [people[n % 10] for n in range(100)]
            # And without stopping it: 100 concurrent awaits, mixed results and errors.
            results = await asyncio.gather(*(merit.people.get(id=people[n]["id"]) if n < 10 else
                                             merit.people.get(id="emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ")
                                             for n in range(100)), return_exceptions=True)
            assert results[:10] == people and all(isinstance(r, NotFound) for r in results[10:])

    run(main())


def test_batch(org):
    async def main():
        async with AsyncMerit(org.data, org.api_key) as merit:
            async with merit.batch() as batch:
                ada = batch.people.create(name="Ada", email="ada@example.org", role="manager")
                bad = batch.call("people.create", {"name": "Bad", "email": "bad", "role": "employee"})
                batch.notify("$/ping")
                listed = batch.people.list()
            assert (await ada)["name"] == "Ada"
            assert isinstance(bad.exception(), ValidationError)
            assert listed.result()["data"] == [ada.result()]
            assert batch.results[0] == ada.result() and isinstance(batch.results[1], ValidationError)
            assert len(batch.results) == 3

    run(main())


def test_notify(org):
    async def main():
        async with AsyncMerit(org.data, org.api_key) as merit:
            await merit.notify("people.create", {"name": "Bo", "email": "bo@example.org", "role": "employee"})
            await merit.notify("no.such.method")
            assert [p["name"] for p in (await merit.people.list())["data"]] == ["Bo"]
            assert merit.pending_requests == 0

    run(main())


def test_close_reaps_and_later_calls_fail(org):
    async def main():
        merit = await AsyncMerit(org.data, org.api_key).start()
        pid = merit.pid
        await asyncio.gather(merit.close(), merit.close())
        await merit.close()
        assert merit.returncode == 0 and is_reaped(pid)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        with pytest.raises(ClientClosed):
            await merit.ping()

    run(main())


def test_an_invalid_key_fails_at_start(org):
    async def main():
        with pytest.raises(AuthenticationRequired):
            async with AsyncMerit(org.data, "mk_not_a_real_key"):
                pass

    run(main())
