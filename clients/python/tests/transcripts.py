"""Conformance transcripts (Protocol/examples/*.jsonl): loading and raw replay against the binary.

A transcript alternates a request line (sent verbatim; it need not be valid JSON) and the response
line expected for it, ``null`` standing for "no response". After an expected line, every following
line that is a JSON object whose ``method`` is ``"event"`` and that has no ``id`` is one more
expected output line (a server notification produced by the same request). Clients never send a
method named ``event``, so such a line is never a request.
"""
import json
import os
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

CLOCK = "2026-04-15T09:00:00Z"
SEED = "1"


@dataclass
class Exchange:
    line: int  # the request's line number in the file
    request: str
    expected: List[Any] = field(default_factory=list)  # the output lines expected, in order (none for null)


def is_event_line(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("method") == "event" and "id" not in value


def load(path: Path) -> List[Exchange]:
    lines = [(number, text) for number, text in enumerate(path.read_text(encoding="utf-8").split("\n"), 1)
             if text.strip()]
    exchanges: List[Exchange] = []
    index = 0
    while index < len(lines):
        number, request = lines[index]
        if index + 1 >= len(lines):
            raise ValueError(f"{path.name}:{number}: a request without an expected line")
        expected_number, expected_text = lines[index + 1]
        try:
            expected = json.loads(expected_text)
        except ValueError:
            raise ValueError(f"{path.name}:{expected_number}: the expected line is not JSON") from None
        exchange = Exchange(number, request, [] if expected is None else [expected])
        index += 2
        while index < len(lines) and is_event_line(lines[index][1]):
            exchange.expected.append(json.loads(lines[index][1]))
            index += 1
        exchanges.append(exchange)
    return exchanges


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: object members in any order, but ``true`` is not ``1`` (as it is in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class LineReader:
    """Reads a stream's lines on a thread, so that waiting for one can time out."""

    def __init__(self, stream):
        self.lines: "queue.Queue[Optional[bytes]]" = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        for line in iter(stream.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float) -> Optional[bytes]:
        return self.lines.get(timeout=timeout)

    def rest(self, timeout: float) -> List[bytes]:
        self.thread.join(timeout)
        found = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return found
            if line is not None:
                found.append(line)


def init_data(binary: str, data: str) -> None:
    subprocess.run([binary, "init", "--org", "Acme", "--data", data, "--seed", SEED, "--clock", CLOCK, "--json"],
                   check=True, capture_output=True, timeout=60)


def replay(binary: str, path: Path, data: str, timeout: float = 30.0) -> None:
    """Replay one transcript file; raise AssertionError at the first difference."""
    exchanges = load(path)
    init_data(binary, data)
    env = {k: v for k, v in os.environ.items() if k not in ("MERIT_API_KEY", "MERIT_DATA", "MERIT_CLOCK", "MERIT_SEED")}
    server = subprocess.Popen([binary, "serve", "--data", data, "--clock", CLOCK, "--seed", SEED], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stderr = LineReader(server.stderr)
    stdout = LineReader(server.stdout)
    try:
        for exchange in exchanges:
            server.stdin.write(exchange.request.encode("utf-8") + b"\n")
            server.stdin.flush()
            for expected in exchange.expected:
                try:
                    line = stdout.next(timeout)
                except queue.Empty:
                    raise AssertionError(f"{path.name}:{exchange.line}: no output within {timeout} s") from None
                assert line is not None, f"{path.name}:{exchange.line}: merit closed stdout instead of answering"
                text = line.decode("utf-8")
                assert text.endswith("\n") and "\n" not in text[:-1]
                actual = json.loads(text)
                assert json_equal(actual, expected), (
                    f"{path.name}:{exchange.line}: sent {exchange.request}\n"
                    f"  expected {json.dumps(expected)}\n  got      {text.rstrip()}")
        server.stdin.close()
        status = server.wait(timeout)
        extra = stdout.rest(timeout)
        assert status == 0, f"{path.name}: merit exited with {status}; stderr: {b''.join(stderr.rest(5))!r}"
        assert not extra, f"{path.name}: unexpected output after the last exchange: {extra!r}"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for stream in (server.stdout, server.stderr):
            stream.close()
        if not server.stdin.closed:
            try:
                server.stdin.close()
            except OSError:
                pass
