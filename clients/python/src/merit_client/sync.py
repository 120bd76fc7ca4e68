"""The synchronous Merit client: :class:`Merit`.

It spawns ``merit serve`` with pipes, authenticates, learns the method names from ``rpc.discover``
and then sends requests as they are called. Two background threads keep the pipes moving: one reads
stdout and hands each answer to the call waiting for its id (so calls from several threads are in
flight at once), one drains stderr into a tail of its last lines (so the child never blocks on a
full pipe, and :class:`~merit_client.errors.ServerExited` can say what it printed before dying).
Event callbacks run on a third thread, started with the first callback, so a callback may call the
client.

    with Merit(data="./my-data", api_key="mk_…") as merit:
        ada = merit.people.create(name="Ada", email="ada@example.org", role="manager")
        merit.people.get(id=ada["id"])
        with merit.batch() as batch:
            a = batch.people.list(role="manager")
            b = batch.organization.get()
        a.result(), b.result()
"""
from __future__ import annotations

import concurrent.futures
import copy
import queue
import subprocess
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import _common
from ._common import (DEFAULT, DEFAULT_CLOSE_TIMEOUT, DEFAULT_EVENT_BUFFER, DEFAULT_STDERR_LINES, Event,
                      EventBuffer, MethodTable, Namespace, Pending, Router, SessionInfo, StderrTail,
                      add_session_properties, child_namespace, log)
from .errors import ClientClosed, MeritError, ProtocolError, RequestTimeout, describe_exit

__all__ = ["Merit", "Batch", "BatchItem"]

EventCallback = Callable[[Event], Any]
_Item = Tuple[str, Any, bool]  # (method, params, is_notification)


def _copy(error: BaseException) -> BaseException:
    try:
        return copy.copy(error)
    except Exception:  # pragma: no cover - every client error copies
        return error


@add_session_properties
class Merit:
    """A ``merit serve`` child process and a JSON-RPC session with it.

    Args:
        data: the data directory (``--data``); default ``$MERIT_DATA``, else the server's default.
        api_key: the key to authenticate with, sent in ``initialize``; default ``$MERIT_API_KEY``.
            Without one the session starts unauthenticated (``merit.initialize(api_key=...)`` later).
        binary: the merit executable; default ``$MERIT_BIN``, else ``merit`` on ``PATH``.
        clock, seed, log_level, max_line_bytes: ``--clock``, ``--seed``, ``--log-level``,
            ``--max-line-bytes`` of ``merit serve`` (for test harnesses).
        args: more command-line arguments, appended as they are.
        env: variables added to the child's environment (``replace_env=True``: its whole
            environment). ``MERIT_API_KEY`` is not passed on unless ``env`` sets it.
        cwd: the child's working directory.
        client_name, client_version: ``client_info`` of ``initialize``.
        timeout: the default timeout of every call, in seconds (``None``: wait as long as merit lives).
        close_timeout: how long :meth:`close` waits for a graceful exit before killing the child.
        on_event: a callback for every ``event`` notification (see :meth:`on_event`).
        event_buffer: how many received events :meth:`next_event` keeps (the oldest are dropped).
        stderr_lines: how many of the child's last stderr lines are kept for error messages.
        **options: any other ``merit serve`` option, ``name_like_this=value`` → ``--name-like-this value``.

    Raises :class:`~merit_client.errors.BinaryNotFound`, :class:`~merit_client.errors.ServerExited`
    (merit would not start; the message has its stderr), or the error of ``initialize`` (an invalid
    key: :class:`~merit_client.errors.AuthenticationRequired`); the child is reaped in every case.
    """

    def __init__(
        self,
        data: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        binary: Optional[str] = None,
        clock: Optional[str] = None,
        seed: Optional[int] = None,
        log_level: Optional[str] = None,
        max_line_bytes: Optional[int] = None,
        args: Sequence[str] = (),
        env: Optional[Dict[str, str]] = None,
        replace_env: bool = False,
        cwd: Optional[str] = None,
        client_name: str = "merit_client",
        client_version: Optional[str] = None,
        timeout: Optional[float] = None,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        on_event: Optional[EventCallback] = None,
        event_buffer: Optional[int] = DEFAULT_EVENT_BUFFER,
        stderr_lines: int = DEFAULT_STDERR_LINES,
        **options: Any,
    ) -> None:
        from ._version import __version__

        self._timeout = timeout
        self._close_timeout = close_timeout
        self._router = Router()
        self._session = SessionInfo()
        self._table: Optional[MethodTable] = None
        self._stderr = StderrTail(stderr_lines)
        self._write_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._closing = False
        self._closed = False
        self._event_lock = threading.Condition()
        self._events = EventBuffer(event_buffer)
        self._events_over = False
        self._callbacks: List[EventCallback] = []
        self._callback_queue: "Optional[queue.Queue[Any]]" = None
        self._callback_thread: Optional[threading.Thread] = None
        if on_event is not None:
            self.on_event(on_event)

        binary_path = _common.find_binary(binary)
        self.command: List[str] = _common.serve_command(
            binary_path, data, clock=clock, seed=seed, log_level=log_level, max_line_bytes=max_line_bytes,
            args=args, options=options)
        self._proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_common.child_environment(env, replace_env), cwd=cwd)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, name=f"merit-stderr-{self.pid}", daemon=True)
        self._reader = threading.Thread(target=self._read_stdout, name=f"merit-stdout-{self.pid}", daemon=True)
        self._stderr_thread.start()
        self._reader.start()
        try:
            key = _common.resolve_api_key(api_key)
            initialize = self._start(
                [("initialize", _common.initialize_params(client_name, client_version or __version__, key), False)],
                batch=False, internal=True)[0]
            discover = self._start([("rpc.discover", None, False)], batch=False, internal=True)[0]
            self._discover_result = self._wait(discover, DEFAULT)
            self._table = MethodTable.from_discover(self._discover_result)
            self._wait(initialize, DEFAULT)
        except BaseException:
            self.close()
            raise

    # -- the session ---------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    @property
    def returncode(self) -> Optional[int]:
        """The child's exit status once it has exited and been reaped, else ``None``."""
        return self._proc.poll()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (or is running)."""
        return self._closing

    @property
    def methods(self) -> List[str]:
        """The method names the server listed in ``rpc.discover`` (plus ``rpc.discover``), sorted."""
        return sorted(self._table.names) if self._table else []

    @property
    def openrpc(self) -> Dict[str, Any]:
        """The OpenRPC document ``rpc.discover`` returned at start-up."""
        return self._discover_result

    @property
    def initialize_result(self) -> Optional[Dict[str, Any]]:
        """The result of the last successful ``initialize``."""
        return self._session.initialize_result

    @property
    def stderr_tail(self) -> List[str]:
        """The child's last lines of stderr (at most ``stderr_lines``)."""
        return self._stderr.lines()

    @property
    def pending_requests(self) -> int:
        """How many requests are sent and not yet answered."""
        return len(self._router)

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("_") or self.__dict__.get("_table") is None:
            raise AttributeError(name)
        return child_namespace(self._invoke, self._table, "", name)

    def __dir__(self) -> List[str]:
        names = set(super().__dir__())
        if self._table is not None:
            names.update(self._table.children(""))
        return sorted(names)

    def __repr__(self) -> str:
        state = "closed" if self._closing else "open"
        return f"<Merit pid={self.pid} {state}>"

    def __enter__(self) -> "Merit":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------------------------

    def call(self, method: str, params: Any = None, *, timeout: Any = DEFAULT) -> Any:
        """Send the request ``method`` with ``params`` (as given; any name, unchecked) and return its
        result, or raise its error as a :class:`~merit_client.errors.MeritError` subclass."""
        (entry,) = self._start([(method, params, False)], batch=False)
        return self._wait(entry, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        """Send ``method`` as a notification: no id, no answer, even if it fails."""
        self._start([(method, params, True)], batch=False)

    def batch(self, *, timeout: Any = DEFAULT) -> "Batch":
        """A :class:`Batch`: calls collected, then sent as one JSON-RPC batch array.

        ``with merit.batch() as b: x = b.people.get(id=...)`` sends at the end of the block;
        ``x.result()`` is then the result (or raises its error); ``b.results`` is every result or
        exception, in order."""
        return Batch(self, timeout)

    def ping(self) -> Any:
        """``$/ping``."""
        return self.call("$/ping")

    def _invoke(self, method: str, params: Any) -> Any:
        return self.call(method, params)

    def _start(self, items: Sequence[_Item], *, batch: bool, internal: bool = False) -> List[Pending]:
        if self._closing and not internal:
            raise ClientClosed("the Merit client is closed", method=items[0][0] if items else None)
        requests = [method for method, _, notification in items if not notification]
        entries = self._router.add(requests, concurrent.futures.Future)
        try:
            ids = iter(entries)
            messages = [_common.request(method, params, None if notification else next(ids).id,
                                        notification=notification)
                        for method, params, notification in items]
            line = _common.encode(messages if batch else messages[0])
        except BaseException:
            self._router.discard(entries)
            raise
        try:
            with self._write_lock:
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
        except (OSError, ValueError) as error:
            # The child is gone (or stdin was closed by close()): the reader fails the entries as
            # soon as stdout ends, with the exit status.
            log.debug("write to merit failed: %s", error)
        return entries

    def _wait(self, entry: Pending, timeout: Any) -> Any:
        timeout = self._timeout if timeout is DEFAULT else timeout
        try:
            result = entry.future.result(timeout)
        except concurrent.futures.TimeoutError:
            self._router.discard([entry])
            if entry.future.done():
                result = entry.future.result()
            else:
                raise RequestTimeout(f"{entry.method} got no answer within {timeout} s.", method=entry.method,
                                     request_id=entry.id) from None
        except BaseException:
            self._router.discard([entry])
            raise
        _common.note_initialize(self._session, entry.method, result)
        return result

    # -- events --------------------------------------------------------------------------------

    def on_event(self, callback: EventCallback) -> EventCallback:
        """Call ``callback(event)`` for every ``event`` notification received, in order, on a thread
        of the client's (it may call the client). Returns ``callback``, so it works as a decorator.
        Events are also kept for :meth:`next_event` whether or not there are callbacks."""
        with self._event_lock:
            self._callbacks.append(callback)
            if self._callback_thread is None:
                self._callback_queue = queue.Queue()
                self._callback_thread = threading.Thread(target=self._run_callbacks, name="merit-events", daemon=True)
                self._callback_thread.start()
        return callback

    def off_event(self, callback: EventCallback) -> None:
        """Stop calling ``callback``."""
        with self._event_lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The oldest event received and not yet taken, waiting up to ``timeout`` seconds (``None``:
        as long as the session lasts) for one; ``None`` at the timeout. Once the session is over and
        every event taken, raises :class:`~merit_client.errors.ClientClosed` or
        :class:`~merit_client.errors.ServerExited`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._event_lock:
            while not self._events.items:
                if self._events_over:
                    raise _copy(self._router.failure or ClientClosed("the Merit client is closed"))
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._event_lock.wait(remaining)
            return self._events.items.popleft()

    def drain_events(self) -> List[Event]:
        """Every event received and not yet taken, oldest first, without waiting."""
        with self._event_lock:
            items = list(self._events.items)
            self._events.items.clear()
            return items

    @property
    def dropped_events(self) -> int:
        """How many events were dropped because the buffer was full."""
        return self._events.dropped

    @property
    def events(self) -> "_Events":
        """``merit.events(timeout=None)`` iterates over events as they arrive (it ends when the
        session ends, or after ``timeout`` seconds without one); ``merit.events.<method>`` calls the
        server's ``events.*`` methods."""
        return _Events(self)

    def _deliver_event(self, event: Event) -> None:
        with self._event_lock:
            self._events.push(event)
            self._event_lock.notify_all()
            if self._callbacks and self._callback_queue is not None:
                self._callback_queue.put(event)

    def _run_callbacks(self) -> None:
        assert self._callback_queue is not None
        while True:
            event = self._callback_queue.get()
            if event is None:
                return
            with self._event_lock:
                callbacks = list(self._callbacks)
            for callback in callbacks:
                try:
                    callback(event)
                except Exception:
                    log.exception("an on_event callback raised")

    # -- the pipes -----------------------------------------------------------------------------

    def _drain_stderr(self) -> None:
        stream = self._proc.stderr
        try:
            while True:
                chunk = stream.read1(65536)
                if not chunk:
                    break
                self._stderr.feed(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._stderr.finish()

    def _read_stdout(self) -> None:
        stream = self._proc.stdout
        try:
            for line in iter(stream.readline, b""):
                if not line.strip():
                    continue
                try:
                    message = _common.decode_line(line)
                except ProtocolError as error:
                    log.warning("%s", error)
                    continue
                for future, error, result in _common.route(message, self._router, self._deliver_event):
                    if future.done():
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(result)
        except (OSError, ValueError):
            pass
        except Exception:  # pragma: no cover - a bug of the client: never leave calls hanging
            log.exception("the merit stdout reader failed")
        finally:
            self._stdout_ended()

    def _stdout_ended(self) -> None:
        try:
            returncode: Optional[int] = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            returncode = None
        self._stderr_thread.join(timeout=2)
        tail = self._stderr.lines()
        pending = len(self._router)
        failure: MeritError
        if self._closing:
            failure = ClientClosed(f"the Merit client was closed before merit answered "
                                   f"(merit serve {describe_exit(returncode)}).")
        else:
            failure = _common.exit_error(returncode, tail, pending)
        for entry in self._router.close(failure):
            if not entry.future.done():
                error = _copy(failure)
                if isinstance(error, MeritError):
                    error.method, error.request_id = entry.method, entry.id
                entry.future.set_exception(error)
        with self._event_lock:
            self._events_over = True
            self._event_lock.notify_all()

    # -- closing -------------------------------------------------------------------------------

    def close(self, timeout: Optional[float] = None) -> None:
        """End the session: ``shutdown``, then the ``exit`` notification, close stdin and wait for the
        child; kill it if it has not exited within ``timeout`` seconds (default ``close_timeout``).

        Requests already sent are answered first (merit answers in order); any still unanswered when
        the child is gone raise :class:`~merit_client.errors.ClientClosed`. Idempotent; the child is
        always reaped."""
        with self._close_lock:
            if self._closed:
                return
            self._closing = True
            timeout = self._close_timeout if timeout is None else timeout
            deadline = time.monotonic() + timeout
            goodbye = None
            if self._proc.poll() is None and self._router.failure is None:
                goodbye = threading.Thread(target=self._say_goodbye, args=(timeout,), name="merit-close", daemon=True)
                goodbye.start()
                goodbye.join(timeout)
            try:
                self._proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("merit serve (pid %d) did not exit within %s s of close(); killing it", self.pid, timeout)
                self._proc.kill()
                self._proc.wait()
            if goodbye is not None:
                goodbye.join(timeout=5)
            for stream in (self._proc.stdin,):
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass
            self._reader.join(timeout=10)
            self._stderr_thread.join(timeout=10)
            for entry in self._router.close(ClientClosed("the Merit client is closed")):
                if not entry.future.done():
                    entry.future.set_exception(ClientClosed("the Merit client was closed before merit answered.",
                                                            method=entry.method, request_id=entry.id))
            with self._event_lock:
                self._events_over = True
                self._event_lock.notify_all()
            if self._callback_queue is not None:
                self._callback_queue.put(None)
                if self._callback_thread is not threading.current_thread():
                    self._callback_thread.join(timeout=5)
            for stream in (self._proc.stdout, self._proc.stderr):
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass
            self._closed = True

    def _say_goodbye(self, timeout: float) -> None:
        try:
            (entry,) = self._start([("shutdown", None, False)], batch=False, internal=True)
            self._wait(entry, timeout)
        except MeritError as error:
            log.debug("shutdown at close: %s", error)
        try:
            self._start([("exit", None, True)], batch=False, internal=True)
        except MeritError:
            pass
        try:
            with self._write_lock:
                self._proc.stdin.close()
        except (OSError, ValueError):
            pass


class _Events:
    """``merit.events``: callable (an iterator over events) and a namespace of ``events.*`` methods."""

    __slots__ = ("_client",)

    def __init__(self, client: Merit) -> None:
        self._client = client

    def __call__(self, timeout: Optional[float] = None) -> Iterator[Event]:
        client = self._client
        while True:
            try:
                event = client.next_event(timeout)
            except ClientClosed:
                return
            if event is None:
                return
            yield event

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("__") or self._client._table is None:
            raise AttributeError(name)
        return child_namespace(self._client._invoke, self._client._table, "events", name)


class BatchItem:
    """One call of a :class:`Batch`: its result once the batch is sent."""

    __slots__ = ("method", "params", "_done", "_result", "_error")

    def __init__(self, method: str, params: Any) -> None:
        self.method = method
        self.params = params
        self._done = False
        self._result: Any = None
        self._error: Optional[BaseException] = None

    def done(self) -> bool:
        """Whether the answer is in."""
        return self._done

    def result(self) -> Any:
        """The result; raises the call's error. ``RuntimeError`` before the batch is sent."""
        if not self._done:
            raise RuntimeError(f"the batch holding {self.method} has not been sent yet")
        if self._error is not None:
            raise self._error
        return self._result

    def exception(self) -> Optional[BaseException]:
        """The call's error, or ``None`` if it succeeded."""
        if not self._done:
            raise RuntimeError(f"the batch holding {self.method} has not been sent yet")
        return self._error

    def _settle(self, result: Any = None, error: Optional[BaseException] = None) -> None:
        self._done, self._result, self._error = True, result, error

    def __repr__(self) -> str:
        state = "pending" if not self._done else ("error" if self._error else "done")
        return f"<BatchItem {self.method} {state}>"


class Batch:
    """Calls collected and sent as one JSON-RPC batch (one line, one array, one answer).

    ``batch.people.create(...)`` / ``batch.call(name, params)`` add a request and return its
    :class:`BatchItem`; ``batch.notify(...)`` adds a notification. :meth:`send` (or leaving the
    ``with`` block without an exception) sends them and returns every result, in order, with the
    exception in place of each failed one."""

    def __init__(self, client: Merit, timeout: Any = DEFAULT) -> None:
        self._client = client
        self._timeout = timeout
        self._items: List[Tuple[str, Any, bool, Optional[BatchItem]]] = []
        self._sent = False
        #: Every request's result or exception, in order, once sent.
        self.results: Optional[List[Any]] = None

    def call(self, method: str, params: Any = None) -> BatchItem:
        """Add the request ``method`` (any name, unchecked)."""
        self._check_open()
        item = BatchItem(method, params)
        self._items.append((method, params, False, item))
        return item

    def notify(self, method: str, params: Any = None) -> None:
        """Add the notification ``method``."""
        self._check_open()
        self._items.append((method, params, True, None))

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("_") or self._client._table is None:
            raise AttributeError(name)
        return child_namespace(self.call, self._client._table, "", name)

    def __len__(self) -> int:
        return len(self._items)

    def _check_open(self) -> None:
        if self._sent:
            raise RuntimeError("this batch has been sent; start another with merit.batch()")

    def send(self) -> List[Any]:
        """Send the batch; wait for its answer; return every request's result or exception, in order."""
        self._check_open()
        self._sent = True
        requests = [item for _, _, _, item in self._items if item is not None]
        self.results = []
        if not self._items:
            return self.results
        client = self._client
        entries = client._start([(m, p, n) for m, p, n, _ in self._items], batch=True)
        timeout = client._timeout if self._timeout is DEFAULT else self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        for item, entry in zip(requests, entries):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item._settle(result=client._wait(entry, remaining))
            except MeritError as error:
                item._settle(error=error)
        self.results = [item._error if item._error is not None else item._result for item in requests]
        return self.results

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None and not self._sent:
            self.send()
