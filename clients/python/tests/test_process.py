"""The child process: closed or killed mid-request, dying at start, flooding stderr, reaped."""
import asyncio
import os
import signal
import threading
import time

import pytest

from conftest import is_reaped, merit_init, stop, wait_until, write_script
from merit_client import AsyncMerit, ClientClosed, Merit, MeritError, ServerExited


def call_in_thread(function):
    """Run ``function`` on a thread; return a dict that gets its result or exception, and the thread."""
    outcome = {}

    def target():
        started = time.monotonic()
        try:
            outcome["result"] = function()
        except BaseException as error:  # noqa: B902 - recorded for the test
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return outcome, thread


# -- closed mid-request -------------------------------------------------------------------------


def test_sync_close_while_a_request_is_in_flight(org):
    merit = Merit(org.data, org.api_key)
    pid = merit.pid
    stop(pid)  # the request will not be answered
    outcome, thread = call_in_thread(lambda: merit.people.list())
    wait_until(lambda: merit.pending_requests == 1, what="the request to be in flight")
    started = time.monotonic()
    merit.close(timeout=1)
    assert time.monotonic() - started < 5
    thread.join(5)
    assert not thread.is_alive()
    error = outcome["error"]
    assert isinstance(error, ClientClosed) and isinstance(error, MeritError)
    assert "closed" in str(error)
    assert merit.returncode == -signal.SIGKILL  # it did not answer shutdown in time, so it was killed
    assert is_reaped(pid)


def test_sync_close_lets_requests_already_sent_finish(org):
    merit = Merit(org.data, org.api_key)
    stop(merit.pid)
    outcome, thread = call_in_thread(lambda: merit.people.list())
    wait_until(lambda: merit.pending_requests == 1, what="the request to be in flight")
    os.kill(merit.pid, signal.SIGCONT)
    merit.close()
    thread.join(5)
    assert outcome.get("result") == {"data": [], "next_cursor": None}
    assert merit.returncode == 0


def test_async_close_while_a_request_is_in_flight(org):
    async def main():
        merit = await AsyncMerit(org.data, org.api_key).start()
        pid = merit.pid
        stop(pid)
        task = asyncio.ensure_future(merit.people.list())
        while merit.pending_requests < 1:
            await asyncio.sleep(0)
        started = time.monotonic()
        await merit.close(timeout=1)
        assert time.monotonic() - started < 5
        with pytest.raises(ClientClosed):
            await asyncio.wait_for(task, 5)
        assert merit.returncode == -signal.SIGKILL
        assert is_reaped(pid)

    asyncio.run(asyncio.wait_for(main(), 60))


# -- killed mid-request -------------------------------------------------------------------------


def test_sync_server_killed_mid_request(org):
    merit = Merit(org.data, org.api_key)
    pid = merit.pid
    stop(pid)
    outcome, thread = call_in_thread(lambda: merit.people.list())
    wait_until(lambda: merit.pending_requests == 1, what="the request to be in flight")
    os.kill(pid, signal.SIGKILL)
    thread.join(10)
    assert not thread.is_alive()
    error = outcome["error"]
    assert isinstance(error, ServerExited)
    assert error.returncode == -signal.SIGKILL
    assert "signal 9 (SIGKILL)" in str(error)
    assert outcome["seconds"] < 10
    with pytest.raises(ServerExited):
        merit.ping()  # every later call fails at once, the same way
    merit.close()
    assert is_reaped(pid)


def test_async_server_killed_mid_request(org):
    async def main():
        merit = await AsyncMerit(org.data, org.api_key).start()
        pid = merit.pid
        stop(pid)
        task = asyncio.ensure_future(merit.people.list())
        while merit.pending_requests < 1:
            await asyncio.sleep(0)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(ServerExited) as caught:
            await asyncio.wait_for(task, 10)
        assert caught.value.returncode == -signal.SIGKILL and "SIGKILL" in str(caught.value)
        with pytest.raises(ServerExited):
            await merit.ping()
        await merit.close()
        assert is_reaped(pid)

    asyncio.run(asyncio.wait_for(main(), 60))


# -- dying with something to say ----------------------------------------------------------------


def test_server_exit_carries_status_and_stderr(org, tmp_path, merit_bin):
    script = write_script(tmp_path / "dies", """#!/bin/sh
for n in $(seq 1 80); do echo "noise $n" >&2; done
echo "merit: error: the disk is on fire" >&2
exit 3
""")
    with pytest.raises(ServerExited) as caught:
        Merit(org.data, org.api_key, binary=script)
    error = caught.value
    assert error.returncode == 3 and "exited with status 3" in str(error)
    assert "the disk is on fire" in str(error)
    assert error.stderr_tail[-1] == "merit: error: the disk is on fire"
    assert len(error.stderr_tail) == 50 and error.stderr_tail[0] == "noise 32"


def test_server_that_cannot_start(merit_bin, tmp_path):
    with pytest.raises(ServerExited) as caught:
        Merit(str(tmp_path / "nothing-here"), binary=merit_bin)
    assert caught.value.returncode == 1 and "merit init" in str(caught.value)
    with pytest.raises(ServerExited) as caught:
        Merit(str(tmp_path / "nothing-here"), bogus_option=True)
    assert caught.value.returncode == 64 and "unknown option '--bogus-option'" in str(caught.value)


def test_a_second_server_on_the_same_directory(org):
    with Merit(org.data, org.api_key) as first:
        with pytest.raises(ServerExited) as caught:
            Merit(org.data, org.api_key)
        assert f"pid {first.pid}" in str(caught.value)
        assert first.ping() == {}


def test_async_server_that_cannot_start(merit_bin, tmp_path):
    async def main():
        with pytest.raises(ServerExited) as caught:
            await AsyncMerit(str(tmp_path / "nothing-here")).start()
        assert caught.value.returncode == 1 and "merit init" in str(caught.value)

    asyncio.run(asyncio.wait_for(main(), 60))


# -- stderr is drained --------------------------------------------------------------------------


@pytest.fixture
def loud_merit(tmp_path, merit_bin):
    """MERIT_BIN stand-in that writes 10 MB to stderr and then execs the real merit."""
    return write_script(tmp_path / "loud-merit", f"""#!/bin/sh
head -c 10000000 /dev/zero | tr '\\0' 'x' >&2
echo >&2
echo "10 MB written" >&2
exec "{merit_bin}" "$@"
""")


def test_sync_client_drains_10_mb_of_stderr(org, loud_merit, monkeypatch):
    monkeypatch.setenv("MERIT_BIN", loud_merit)
    with Merit(org.data, org.api_key, timeout=60) as merit:
        assert merit.people.create(name="Ada", email="ada@example.org", role="manager")["name"] == "Ada"
        assert merit.ping() == {}
        tail = merit.stderr_tail
        assert "10 MB written" in tail
        assert any(line.startswith("[…] xxxx") and len(line) < 5000 for line in tail)
    assert merit.returncode == 0


def test_async_client_drains_10_mb_of_stderr(org, loud_merit, monkeypatch):
    monkeypatch.setenv("MERIT_BIN", loud_merit)

    async def main():
        async with AsyncMerit(org.data, org.api_key, timeout=60) as merit:
            got = await asyncio.gather(*(merit.ping() for _ in range(20)))
            assert got == [{}] * 20
            assert "10 MB written" in merit.stderr_tail
        assert merit.returncode == 0

    asyncio.run(asyncio.wait_for(main(), 60))


# -- no zombies ---------------------------------------------------------------------------------


def test_no_zombie_after_close(org):
    pids = []
    for _ in range(3):
        with Merit(org.data, org.api_key) as merit:
            pids.append(merit.pid)
            merit.ping()
    for pid in pids:
        assert is_reaped(pid)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_no_zombie_after_a_failed_start(merit_bin, tmp_path):
    data = str(tmp_path / "data")
    merit_init(merit_bin, data)
    before = set(_children())
    with pytest.raises(MeritError):
        Merit(data, "mk_not_a_real_key")
    with pytest.raises(MeritError):
        Merit(str(tmp_path / "missing"))
    assert set(_children()) <= before


def _children():
    """Pids of this process's children, zombies included (from /proc)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.append(int(entry))
    return found
