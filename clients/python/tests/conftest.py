"""Shared fixtures: the merit binary (``MERIT_BIN``), fresh data directories made with ``merit init``,
wrapper scripts standing in for the binary, and helpers to check that a child was reaped."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The repository root: clients/python/tests/ is three levels below it.
REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "Protocol" / "examples"
HERE = Path(__file__).resolve().parent


def merit_binary() -> str:
    binary = os.environ.get("MERIT_BIN")
    if not binary:
        default = REPO / ".build" / "debug" / "merit"
        if default.exists():
            return str(default)
        pytest.fail("set MERIT_BIN to a merit binary (or build one at .build/debug/merit)", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def merit_bin() -> str:
    binary = merit_binary()
    os.environ["MERIT_BIN"] = binary  # the clients find it there
    return binary


@dataclass
class Org:
    data: str
    api_key: str
    organization_id: str


def merit_init(binary: str, data: str, *extra: str, org: str = "Acme") -> dict:
    result = subprocess.run([binary, "init", "--org", org, "--data", data, "--json", *extra],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def org(merit_bin, tmp_path, monkeypatch) -> Org:
    """A fresh organization in a temporary data directory; MERIT_API_KEY and MERIT_DATA unset."""
    monkeypatch.delenv("MERIT_API_KEY", raising=False)
    monkeypatch.delenv("MERIT_DATA", raising=False)
    data = str(tmp_path / "data")
    made = merit_init(merit_bin, data)
    return Org(data=data, api_key=made["api_key"], organization_id=made["organization_id"])


def write_script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


@pytest.fixture
def fake_merit(tmp_path) -> str:
    """An executable that runs tests/fake_merit.py, a tiny scripted server (events, odd answers)."""
    return write_script(tmp_path / "fake-merit",
                        f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_merit.py"}" "$@"\n')


def is_reaped(pid: int) -> bool:
    """Whether ``pid`` is gone from the process table (a zombie would still be there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate`` (for state that has no event to wait on, such as a request in flight)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)


def resume(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)


class RecordingPipe:
    """Stands in for a child's stdin and records every write (to prove what was, or was not, sent)."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.writes = []

    def write(self, data):
        self.writes.append(bytes(data))
        return self.pipe.write(data)

    def __getattr__(self, name):
        return getattr(self.pipe, name)
