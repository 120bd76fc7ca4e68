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
import inspect
import time
from typing import Any, Awaitable, Callable, List, Optional, Sequence, Set, Union

from ._common import DEFAULT, BatchBase, BatchItemBase, ClientBase, Event, EventsNamespace, Item, Pending, log
from .errors import ClientClosed, MeritError

__all__ = ["AsyncMerit", "AsyncBatch"]

EventCallback = Callable[[Event], Union[None, Awaitable[None]]]


class AsyncMerit(ClientBase):
    """A ``merit serve`` child process and a JSON-RPC session with it, for asyncio.

    Takes the same arguments as :class:`merit_client.Merit`. Nothing starts until
    ``await merit.start()`` or ``async with AsyncMerit(...) as merit:``. Calls
    (``await merit.people.get(id=...)``, ``await merit.call("people.list", {...})``) may be awaited
    concurrently; they are all in flight at once. ``on_event`` callbacks may be plain functions or
    coroutine functions (run as tasks).
    """

    _class_name = "AsyncMerit"

    def _setup(self) -> None:
        self._event_waiters: List["asyncio.Future[None]"] = []
        self._callback_tasks: Set["asyncio.Task[Any]"] = set()
        self._reader: Optional["asyncio.Task[None]"] = None
        self._stderr_task: Optional["asyncio.Task[None]"] = None
        self._write_lock: Optional[asyncio.Lock] = None
        self._close_task: Optional["asyncio.Future[None]"] = None

    # -- starting ------------------------------------------------------------------------------

    async def start(self) -> "AsyncMerit":
        """Spawn ``merit serve``, learn the methods (``rpc.discover``) and ``initialize``. Returns self.

        On failure the child is reaped and the error raised (see :class:`merit_client.Merit`)."""
        if self._proc is not None:
            raise RuntimeError("this AsyncMerit has already been started")
        command, env, cwd = self._spawn_spec()
        self._write_lock = asyncio.Lock()
        self._proc = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd)
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self._reader = asyncio.ensure_future(self._read_stdout())
        started: List[Pending] = []
        try:
            for item in self._handshake():
                started += await self._start([item], batch=False, internal=True)
            initialize, discover = started
            self._learn_methods(await self._wait(discover, DEFAULT))
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
        """``$/ping``."""
        return await self.call("$/ping")

    async def _start(self, items: Sequence[Item], *, batch: bool, internal: bool = False) -> List[Pending]:
        if self._proc is None:
            raise RuntimeError("AsyncMerit is not started: use `async with AsyncMerit(...)` or `await merit.start()`")
        entries, line = self._encode_unit(items, batch=batch, internal=internal,
                                          make_future=asyncio.get_running_loop().create_future)
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
        timeout = self._wait_timeout(timeout)
        with self._waiting(entry):
            try:
                if timeout is None:
                    result = await entry.future
                else:
                    result = await asyncio.wait_for(entry.future, timeout)
            except asyncio.TimeoutError:
                result = self._timed_out(entry, timeout)
        return self._answered(entry, result)

    # -- events --------------------------------------------------------------------------------

    def on_event(self, callback: EventCallback) -> EventCallback:
        """Call ``callback(event)`` for every ``event`` notification, in order, on the event loop; a
        coroutine it returns runs as a task. Returns ``callback`` (usable as a decorator)."""
        self._callbacks.append(callback)
        return callback

    async def next_event(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The oldest event not yet taken, waiting up to ``timeout`` seconds for one (``None`` at the
        timeout). Once the session is over and every event taken, raises
        :class:`~merit_client.errors.ClientClosed` or :class:`~merit_client.errors.ServerExited`."""
        for remaining in self._event_waits(timeout):
            waiter = asyncio.get_running_loop().create_future()
            self._event_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                if waiter in self._event_waiters:
                    self._event_waiters.remove(waiter)
        return self._take_event()

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

    def _dispatch_event(self, event: Event) -> None:
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
        self._session_ended(returncode)

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
            self._fail_unanswered()
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
        try:
            await self._start([("exit", None, True)], batch=False, internal=True)
        except MeritError:
            pass  # the child has gone already (as the synchronous client, close() still ends quietly)
        assert self._write_lock is not None
        async with self._write_lock:
            try:
                self._proc.stdin.close()
            except (OSError, RuntimeError):
                pass


class _AsyncEvents(EventsNamespace):
    """``merit.events``: callable (an async iterator over events) and a namespace of ``events.*``."""

    __slots__ = ()

    def __call__(self, timeout: Optional[float] = None) -> "_EventIterator":
        return _EventIterator(self._client, timeout)


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


class AsyncBatchItem(BatchItemBase):
    """One call of an :class:`AsyncBatch`: ``item.result()`` once sent (or ``await item``)."""

    __slots__ = ()

    def __init__(self, method: str, params: Any, future: "asyncio.Future[Any]") -> None:
        super().__init__(method, params, future)

    def __await__(self) -> Any:
        return asyncio.shield(self._future).__await__()


class AsyncBatch(BatchBase[AsyncBatchItem]):
    """Calls collected and sent as one JSON-RPC batch; see :class:`merit_client.Batch`.
    ``await batch.send()`` returns every result or exception, in order."""

    def __init__(self, client: AsyncMerit, timeout: Any = DEFAULT) -> None:
        super().__init__(client, timeout)

    def _new_item(self, method: str, params: Any) -> AsyncBatchItem:
        return AsyncBatchItem(method, params, asyncio.get_running_loop().create_future())

    async def send(self) -> List[Any]:
        """Send the batch; wait for its answer; return every request's result or exception, in order."""
        requests = self._begin_send()
        if not self._items:
            return self._collect(requests)
        client = self._client
        entries = await client._start(self._unit(), batch=True)
        deadline = self._deadline()
        try:
            for item, entry in zip(requests, entries):
                try:
                    item._future.set_result(await client._wait(entry, self._remaining(deadline)))
                except MeritError as error:
                    item._future.set_exception(error)
        except BaseException:
            client._router.discard(entries)
            for item in requests:
                item._future.cancel()
            raise
        return self._collect(requests)

    async def __aenter__(self) -> "AsyncBatch":
        return self

    async def __aexit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None and not self._sent:
            await self.send()
