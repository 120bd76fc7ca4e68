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
import queue
import subprocess
import threading
import time
from typing import Any, Callable, Iterator, List, Optional, Sequence

from ._common import DEFAULT, BatchBase, BatchItemBase, ClientBase, Event, EventsNamespace, Item, Pending, log
from .errors import ClientClosed, MeritError

__all__ = ["Merit", "Batch", "BatchItem"]

EventCallback = Callable[[Event], Any]


class Merit(ClientBase):
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

    _class_name = "Merit"

    def _setup(self) -> None:
        self._write_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._closed = False
        self._event_lock = threading.Condition()
        self._callback_queue: "Optional[queue.Queue[Any]]" = None
        self._callback_thread: Optional[threading.Thread] = None

    def _constructed(self) -> None:
        command, env, cwd = self._spawn_spec()
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=env, cwd=cwd)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, name=f"merit-stderr-{self.pid}", daemon=True)
        self._reader = threading.Thread(target=self._read_stdout, name=f"merit-stdout-{self.pid}", daemon=True)
        self._stderr_thread.start()
        self._reader.start()
        try:
            initialize_item, discover_item = self._handshake()
            (initialize,) = self._start([initialize_item], batch=False, internal=True)
            (discover,) = self._start([discover_item], batch=False, internal=True)
            self._learn_methods(self._wait(discover, DEFAULT))
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

    def _start(self, items: Sequence[Item], *, batch: bool, internal: bool = False) -> List[Pending]:
        entries, line = self._encode_unit(items, batch=batch, internal=internal,
                                          make_future=concurrent.futures.Future)
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
        timeout = self._wait_timeout(timeout)
        with self._waiting(entry):
            try:
                result = entry.future.result(timeout)
            except concurrent.futures.TimeoutError:
                result = self._timed_out(entry, timeout)
        return self._answered(entry, result)

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

    def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The oldest event received and not yet taken, waiting up to ``timeout`` seconds (``None``:
        as long as the session lasts) for one; ``None`` at the timeout. Once the session is over and
        every event taken, raises :class:`~merit_client.errors.ClientClosed` or
        :class:`~merit_client.errors.ServerExited`."""
        with self._event_lock:
            for remaining in self._event_waits(timeout):
                self._event_lock.wait(remaining)
            return self._take_event()

    @property
    def events(self) -> "_Events":
        """``merit.events(timeout=None)`` iterates over events as they arrive (it ends when the
        session ends, or after ``timeout`` seconds without one); ``merit.events.<method>`` calls the
        server's ``events.*`` methods."""
        return _Events(self)

    def _wake_event_waiters(self) -> None:
        self._event_lock.notify_all()

    def _dispatch_event(self, event: Event) -> None:
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
            for chunk in iter(lambda: stream.read1(65536), b""):
                self._stderr.feed(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._stderr.finish()

    def _read_stdout(self) -> None:
        try:
            for line in iter(self._proc.stdout.readline, b""):
                self._handle_line(line)
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
        self._session_ended(returncode)

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
            self._fail_unanswered()
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


class _Events(EventsNamespace):
    """``merit.events``: callable (an iterator over events) and a namespace of ``events.*`` methods."""

    __slots__ = ()

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


class BatchItem(BatchItemBase):
    """One call of a :class:`Batch`: its result once the batch is sent."""

    __slots__ = ()

    def __init__(self, method: str, params: Any) -> None:
        super().__init__(method, params, concurrent.futures.Future())

    def __repr__(self) -> str:
        state = "pending" if not self.done() else ("error" if self.exception() else "done")
        return f"<BatchItem {self.method} {state}>"


class Batch(BatchBase[BatchItem]):
    """Calls collected and sent as one JSON-RPC batch (one line, one array, one answer).

    ``batch.people.create(...)`` / ``batch.call(name, params)`` add a request and return its
    :class:`BatchItem`; ``batch.notify(...)`` adds a notification. :meth:`send` (or leaving the
    ``with`` block without an exception) sends them and returns every result, in order, with the
    exception in place of each failed one."""

    def __init__(self, client: Merit, timeout: Any = DEFAULT) -> None:
        super().__init__(client, timeout)

    def _new_item(self, method: str, params: Any) -> BatchItem:
        return BatchItem(method, params)

    def send(self) -> List[Any]:
        """Send the batch; wait for its answer; return every request's result or exception, in order."""
        requests = self._begin_send()
        if not self._items:
            return self._collect(requests)
        client = self._client
        entries = client._start(self._unit(), batch=True)
        deadline = self._deadline()
        for item, entry in zip(requests, entries):
            try:
                item._future.set_result(client._wait(entry, self._remaining(deadline)))
            except MeritError as error:
                item._future.set_exception(error)
        return self._collect(requests)

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None and not self._sent:
            self.send()
