"""The asyncio Merit client: :class:`AsyncMerit`.

Same spawning, authentication, names and errors as :class:`merit_client.Merit`, on asyncio: every
call is a coroutine, and concurrent awaits are pipelined (each request is written as soon as it is
made; a task reading stdout hands each answer to the future waiting for its id). Another task drains
stderr into a tail of its last lines.

    async with AsyncMerit(data="./my-data", api_key="mk_…") as merit:
        people = await asyncio.gather(*(merit.people.get(id=i) for i in ids))
        async for event in merit.events():
            ...
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Set, Tuple, Union

from . import _common
from ._common import (DEFAULT, DEFAULT_CLOSE_TIMEOUT, DEFAULT_EVENT_BUFFER, DEFAULT_STDERR_LINES, Event,
                      EventBuffer, MethodTable, Namespace, Pending, Router, SessionInfo, StderrTail,
                      add_session_properties, child_namespace, log)
from .errors import ClientClosed, MeritError, ProtocolError, RequestTimeout, describe_exit

__all__ = ["AsyncMerit", "AsyncBatch"]

EventCallback = Callable[[Event], Union[None, Awaitable[None]]]
_Item = Tuple[str, Any, bool]


def _copy(error: BaseException) -> BaseException:
    try:
        return copy.copy(error)
    except Exception:  # pragma: no cover
        return error


@add_session_properties
class AsyncMerit:
    """A ``merit serve`` child process and a JSON-RPC session with it, for asyncio.

    Takes the same arguments as :class:`merit_client.Merit`. Nothing starts until
    ``await merit.start()`` or ``async with AsyncMerit(...) as merit:``. Calls
    (``await merit.people.get(id=...)``, ``await merit.call("people.list", {...})``) may be awaited
    concurrently; they are all in flight at once. ``on_event`` callbacks may be plain functions or
    coroutine functions (run as tasks).
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

        self._binary = binary
        self._data = data
        self._api_key = api_key
        self._serve_options = dict(clock=clock, seed=seed, log_level=log_level, max_line_bytes=max_line_bytes,
                                   args=args, options=options)
        self._env = env
        self._replace_env = replace_env
        self._cwd = cwd
        self._client_name = client_name
        self._client_version = client_version or __version__
        self._timeout = timeout
        self._close_timeout = close_timeout
        self._router = Router()
        self._session = SessionInfo()
        self._table: Optional[MethodTable] = None
        self._discover_result: Optional[Dict[str, Any]] = None
        self._stderr = StderrTail(stderr_lines)
        self._events = EventBuffer(event_buffer)
        self._events_over = False
        self._event_waiters: List["asyncio.Future[None]"] = []
        self._callbacks: List[EventCallback] = []
        self._callback_tasks: Set["asyncio.Task[Any]"] = set()
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._reader: Optional["asyncio.Task[None]"] = None
        self._stderr_task: Optional["asyncio.Task[None]"] = None
        self._write_lock: Optional[asyncio.Lock] = None
        self._closing = False
        self._close_task: Optional["asyncio.Future[None]"] = None
        self.command: List[str] = []
        if on_event is not None:
            self.on_event(on_event)

    # -- starting ------------------------------------------------------------------------------

    async def start(self) -> "AsyncMerit":
        """Spawn ``merit serve``, learn the methods (``rpc.discover``) and ``initialize``. Returns self.

        On failure the child is reaped and the error raised (see :class:`merit_client.Merit`)."""
        if self._proc is not None:
            raise RuntimeError("this AsyncMerit has already been started")
        binary = _common.find_binary(self._binary)
        self.command = _common.serve_command(binary, self._data, **self._serve_options)
        self._write_lock = asyncio.Lock()
        self._proc = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_common.child_environment(self._env, self._replace_env),
            cwd=self._cwd)
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self._reader = asyncio.ensure_future(self._read_stdout())
        started: List[Pending] = []
        try:
            key = _common.resolve_api_key(self._api_key)
            params = _common.initialize_params(self._client_name, self._client_version, key)
            started += await self._start([("initialize", params, False)], batch=False, internal=True)
            started += await self._start([("rpc.discover", None, False)], batch=False, internal=True)
            initialize, discover = started
            self._discover_result = await self._wait(discover, DEFAULT)
            self._table = MethodTable.from_discover(self._discover_result)
            await self._wait(initialize, DEFAULT)
        except BaseException:
            for entry in started:  # the error raised is the one that stopped the start; the other is dropped
                if entry.future.done() and not entry.future.cancelled():
                    entry.future.exception()
            await self.close()
            raise
        return self

    async def __aenter__(self) -> "AsyncMerit":
        return await self.start()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    # -- the session ---------------------------------------------------------------------------

    @property
    def pid(self) -> Optional[int]:
        """The child's process id (``None`` before :meth:`start`)."""
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> Optional[int]:
        """The child's exit status once it has exited, else ``None``."""
        return self._proc.returncode if self._proc else None

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def methods(self) -> List[str]:
        """The method names the server listed in ``rpc.discover`` (plus ``rpc.discover``), sorted."""
        return sorted(self._table.names) if self._table else []

    @property
    def openrpc(self) -> Optional[Dict[str, Any]]:
        """The OpenRPC document ``rpc.discover`` returned at start-up."""
        return self._discover_result

    @property
    def initialize_result(self) -> Optional[Dict[str, Any]]:
        return self._session.initialize_result

    @property
    def stderr_tail(self) -> List[str]:
        """The child's last lines of stderr."""
        return self._stderr.lines()

    @property
    def pending_requests(self) -> int:
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
        state = "closed" if self._closing else ("open" if self._proc else "not started")
        return f"<AsyncMerit pid={self.pid} {state}>"

    # -- calls ---------------------------------------------------------------------------------

    async def call(self, method: str, params: Any = None, *, timeout: Any = DEFAULT) -> Any:
        """Send the request ``method`` with ``params`` (any name, unchecked) and return its result,
        or raise its error as a :class:`~merit_client.errors.MeritError` subclass."""
        (entry,) = await self._start([(method, params, False)], batch=False)
        return await self._wait(entry, timeout)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send ``method`` as a notification (no answer)."""
        await self._start([(method, params, True)], batch=False)

    def batch(self, *, timeout: Any = DEFAULT) -> "AsyncBatch":
        """An :class:`AsyncBatch` (``async with merit.batch() as b: ...`` sends at the end)."""
        return AsyncBatch(self, timeout)

    async def ping(self) -> Any:
        return await self.call("$/ping")

    def _invoke(self, method: str, params: Any) -> Awaitable[Any]:
        return self.call(method, params)

    async def _start(self, items: Sequence[_Item], *, batch: bool, internal: bool = False) -> List[Pending]:
        if self._proc is None:
            raise RuntimeError("AsyncMerit is not started: use `async with AsyncMerit(...)` or `await merit.start()`")
        if self._closing and not internal:
            raise ClientClosed("the Merit client is closed", method=items[0][0] if items else None)
        loop = asyncio.get_running_loop()
        requests = [method for method, _, notification in items if not notification]
        entries = self._router.add(requests, loop.create_future)
        try:
            ids = iter(entries)
            messages = [_common.request(method, params, None if notification else next(ids).id,
                                        notification=notification)
                        for method, params, notification in items]
            line = _common.encode(messages if batch else messages[0])
        except BaseException:
            self._router.discard(entries)
            raise
        assert self._write_lock is not None and self._proc.stdin is not None
        try:
            async with self._write_lock:
                self._proc.stdin.write(line)
                await self._proc.stdin.drain()
        except (OSError, RuntimeError) as error:
            log.debug("write to merit failed: %s", error)  # the reader fails the entries, with the exit status
        except BaseException:
            self._router.discard(entries)
            raise
        return entries

    async def _wait(self, entry: Pending, timeout: Any) -> Any:
        timeout = self._timeout if timeout is DEFAULT else timeout
        try:
            if timeout is None:
                result = await entry.future
            else:
                result = await asyncio.wait_for(entry.future, timeout)
        except asyncio.TimeoutError:
            self._router.discard([entry])
            if entry.future.done() and not entry.future.cancelled():
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
        """Call ``callback(event)`` for every ``event`` notification, in order, on the event loop; a
        coroutine it returns runs as a task. Returns ``callback`` (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def off_event(self, callback: EventCallback) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    async def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The oldest event not yet taken, waiting up to ``timeout`` seconds for one (``None`` at the
        timeout). Once the session is over and every event taken, raises
        :class:`~merit_client.errors.ClientClosed` or :class:`~merit_client.errors.ServerExited`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._events.items:
            if self._events_over:
                raise _copy(self._router.failure or ClientClosed("the Merit client is closed"))
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._event_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                if waiter in self._event_waiters:
                    self._event_waiters.remove(waiter)
        return self._events.items.popleft()

    def drain_events(self) -> List[Event]:
        """Every event received and not yet taken, oldest first, without waiting."""
        items = list(self._events.items)
        self._events.items.clear()
        return items

    @property
    def dropped_events(self) -> int:
        return self._events.dropped

    @property
    def events(self) -> "_AsyncEvents":
        """``async for event in merit.events():`` yields events as they arrive and ends when the
        session ends (``merit.events(timeout=5)`` also ends after 5 s without one);
        ``merit.events.<method>`` calls the server's ``events.*`` methods."""
        return _AsyncEvents(self)

    def _wake_event_waiters(self) -> None:
        for waiter in self._event_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._event_waiters.clear()

    def _deliver_event(self, event: Event) -> None:
        self._events.push(event)
        self._wake_event_waiters()
        for callback in list(self._callbacks):
            try:
                outcome = callback(event)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._callback_tasks.add(task)
                    task.add_done_callback(self._callback_done)
            except Exception:
                log.exception("an on_event callback raised")

    def _callback_done(self, task: "asyncio.Task[Any]") -> None:
        self._callback_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an on_event callback raised", exc_info=task.exception())

    # -- the pipes -----------------------------------------------------------------------------

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        try:
            while True:
                chunk = await self._proc.stderr.read(65536)
                if not chunk:
                    break
                self._stderr.feed(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._stderr.finish()

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stream = self._proc.stdout
        buffer = bytearray()
        try:
            while True:
                chunk = await stream.read(1 << 16)
                if not chunk:
                    break
                start = len(buffer)
                buffer += chunk
                begin = 0
                while True:
                    end = buffer.find(b"\n", start)
                    if end < 0:
                        break
                    self._handle_line(bytes(buffer[begin:end]))
                    begin = start = end + 1
                del buffer[:begin]
            if buffer.strip():
                self._handle_line(bytes(buffer))
        except (OSError, ValueError):
            pass
        except Exception:  # pragma: no cover - a bug of the client: never leave calls hanging
            log.exception("the merit stdout reader failed")
        finally:
            await self._stdout_ended()

    def _handle_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            message = _common.decode_line(line)
        except ProtocolError as error:
            log.warning("%s", error)
            return
        for future, error, result in _common.route(message, self._router, self._deliver_event):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    async def _stdout_ended(self) -> None:
        assert self._proc is not None
        returncode: Optional[int]
        try:
            returncode = await asyncio.wait_for(asyncio.shield(self._proc.wait()), 5)
        except asyncio.TimeoutError:
            returncode = None
        if self._stderr_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 2)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
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
        self._events_over = True
        self._wake_event_waiters()

    # -- closing -------------------------------------------------------------------------------

    async def close(self, timeout: Optional[float] = None) -> None:
        """End the session: ``shutdown``, the ``exit`` notification, close stdin, wait for the child,
        kill it after ``timeout`` seconds (default ``close_timeout``). Requests already sent are
        answered first; any left unanswered raise :class:`~merit_client.errors.ClientClosed`.
        Idempotent, and safe to call concurrently; the child is always reaped."""
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close(timeout))
        await asyncio.shield(self._close_task)

    async def _close(self, timeout: Optional[float]) -> None:
        self._closing = True
        proc = self._proc
        if proc is None:
            self._events_over = True
            return
        timeout = self._close_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            if proc.returncode is None and self._router.failure is None:
                try:
                    await asyncio.wait_for(self._say_goodbye(), timeout)
                except asyncio.TimeoutError:
                    pass
            try:
                await asyncio.wait_for(proc.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                log.warning("merit serve (pid %d) did not exit within %s s of close(); killing it", proc.pid, timeout)
        finally:
            if proc.returncode is None:
                try:
                    proc.kill()
                except ProcessLookupError:
                    pass
                await proc.wait()
            if proc.stdin is not None:
                try:
                    proc.stdin.close()
                except (OSError, RuntimeError):
                    pass
            for task in (self._reader, self._stderr_task):
                if task is not None:
                    try:
                        await asyncio.wait_for(asyncio.shield(task), 10)
                    except (asyncio.TimeoutError, asyncio.CancelledError):
                        task.cancel()
            for entry in self._router.close(ClientClosed("the Merit client is closed")):
                if not entry.future.done():
                    entry.future.set_exception(ClientClosed("the Merit client was closed before merit answered.",
                                                            method=entry.method, request_id=entry.id))
            self._events_over = True
            self._wake_event_waiters()
            transport = getattr(proc, "_transport", None)
            if transport is not None:
                transport.close()

    async def _say_goodbye(self) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            (entry,) = await self._start([("shutdown", None, False)], batch=False, internal=True)
            await self._wait(entry, None)
        except MeritError as error:
            log.debug("shutdown at close: %s", error)
        await self._start([("exit", None, True)], batch=False, internal=True)
        assert self._write_lock is not None
        async with self._write_lock:
            try:
                self._proc.stdin.close()
            except (OSError, RuntimeError):
                pass


class _AsyncEvents:
    """``merit.events``: callable (an async iterator over events) and a namespace of ``events.*``."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncMerit) -> None:
        self._client = client

    def __call__(self, timeout: Optional[float] = None) -> "_EventIterator":
        return _EventIterator(self._client, timeout)

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("__") or self._client._table is None:
            raise AttributeError(name)
        return child_namespace(self._client._invoke, self._client._table, "events", name)


class _EventIterator:
    def __init__(self, client: AsyncMerit, timeout: Optional[float]) -> None:
        self._client = client
        self._timeout = timeout

    def __aiter__(self) -> "_EventIterator":
        return self

    async def __anext__(self) -> Event:
        try:
            event = await self._client.next_event(self._timeout)
        except ClientClosed:
            raise StopAsyncIteration from None
        if event is None:
            raise StopAsyncIteration
        return event


class AsyncBatchItem:
    """One call of an :class:`AsyncBatch`: ``item.result()`` once sent (or ``await item``)."""

    __slots__ = ("method", "params", "_future")

    def __init__(self, method: str, params: Any, future: "asyncio.Future[Any]") -> None:
        self.method = method
        self.params = params
        self._future = future

    def done(self) -> bool:
        return self._future.done()

    def result(self) -> Any:
        if not self._future.done():
            raise RuntimeError(f"the batch holding {self.method} has not been sent yet")
        return self._future.result()

    def exception(self) -> Optional[BaseException]:
        if not self._future.done():
            raise RuntimeError(f"the batch holding {self.method} has not been sent yet")
        return self._future.exception()

    def __await__(self) -> Any:
        return asyncio.shield(self._future).__await__()


class AsyncBatch:
    """Calls collected and sent as one JSON-RPC batch; see :class:`merit_client.Batch`.
    ``await batch.send()`` returns every result or exception, in order."""

    def __init__(self, client: AsyncMerit, timeout: Any = DEFAULT) -> None:
        self._client = client
        self._timeout = timeout
        self._items: List[Tuple[str, Any, bool, Optional[AsyncBatchItem]]] = []
        self._sent = False
        self.results: Optional[List[Any]] = None

    def call(self, method: str, params: Any = None) -> AsyncBatchItem:
        self._check_open()
        item = AsyncBatchItem(method, params, asyncio.get_running_loop().create_future())
        self._items.append((method, params, False, item))
        return item

    def notify(self, method: str, params: Any = None) -> None:
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

    async def send(self) -> List[Any]:
        self._check_open()
        self._sent = True
        requests = [item for _, _, _, item in self._items if item is not None]
        self.results = []
        if not self._items:
            return self.results
        client = self._client
        entries = await client._start([(m, p, n) for m, p, n, _ in self._items], batch=True)
        timeout = client._timeout if self._timeout is DEFAULT else self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for item, entry in zip(requests, entries):
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    item._future.set_result(await client._wait(entry, remaining))
                except MeritError as error:
                    item._future.set_exception(error)
        except BaseException:
            client._router.discard(entries)
            for item in requests:
                item._future.cancel()
            raise
        self.results = [item._future.exception() if item._future.exception() is not None else item._future.result()
                        for item in requests]
        return self.results

    async def __aenter__(self) -> "AsyncBatch":
        return self

    async def __aexit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None and not self._sent:
            await self.send()
