"""What the synchronous and the asyncio clients share: spawning options, the wire encoding, the
request router, the method table learnt from ``rpc.discover``, the attribute namespaces that make
``merit.people.create(...)`` read like the wire name ``people.create``, and the half of each client
that does not depend on how it waits: :class:`ClientBase` (constructor, attributes, turning calls
into lines, settling requests with answers or at the end of the session, events), :class:`BatchBase`
and :class:`BatchItemBase`.

Nothing here does I/O or waits; :mod:`merit_client.sync` (threads) and :mod:`merit_client.aio`
(asyncio) do, in subclasses of these.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import difflib
import json
import keyword
import logging
import os
import shutil
import threading
import time
from typing import (Any, Callable, Deque, Dict, Generic, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple,
                    TypeVar)

from .errors import (BinaryNotFound, ClientClosed, MeritError, ProtocolError, RequestTimeout, ServerExited,
                     UnknownMethod, describe_exit, error_from_response)

log = logging.getLogger("merit_client")

#: The protocol version this client speaks (sent in ``initialize``).
PROTOCOL_VERSION = "2026-11-01"

#: Methods the server serves without listing them in ``rpc.discover`` (OpenRPC's own method).
BUILTIN_METHODS = ("rpc.discover",)

#: The notification method the server uses for events.
EVENT_METHOD = "event"

DEFAULT_STDERR_LINES = 50
DEFAULT_EVENT_BUFFER = 10_000
DEFAULT_CLOSE_TIMEOUT = 5.0
#: The longest stderr line kept whole; longer ones are cut, keeping their end.
MAX_STDERR_LINE = 4096


class _Default:
    """The type of :data:`DEFAULT`: "use the client's default" for a timeout argument."""

    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()


class Event(dict):
    """A server event: the ``params`` of an ``event`` notification,
    ``{id, sequence, type, created_at, actor_id, data}``.

    A plain ``dict`` (it compares equal to one) whose members can also be read as attributes.
    """

    __slots__ = ()

    @property
    def id(self) -> Any:
        return self.get("id")

    @property
    def sequence(self) -> Any:
        return self.get("sequence")

    @property
    def type(self) -> Any:
        return self.get("type")

    @property
    def created_at(self) -> Any:
        return self.get("created_at")

    @property
    def actor_id(self) -> Any:
        return self.get("actor_id")

    @property
    def data(self) -> Any:
        return self.get("data")


# ---------------------------------------------------------------------------------------------
# Spawning


def find_binary(binary: Optional[str]) -> str:
    """The merit binary: ``binary`` if given, else ``$MERIT_BIN``, else ``merit`` on ``PATH``."""
    if binary:
        candidate, source = os.fspath(binary), "the binary argument"
    elif os.environ.get("MERIT_BIN"):
        candidate, source = os.environ["MERIT_BIN"], "MERIT_BIN"
    else:
        found = shutil.which("merit")
        if not found:
            raise BinaryNotFound("merit was not found: pass binary=..., set MERIT_BIN, or put merit on PATH")
        return found
    if os.sep not in candidate:
        found = shutil.which(candidate)
        if found:
            return found
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        raise BinaryNotFound(f"{candidate} (from {source}) is not an executable file")
    return candidate


def serve_command(binary: str, data: Optional[str], *, clock: Optional[str], seed: Optional[int],
                  log_level: Optional[str], max_line_bytes: Optional[int], args: Sequence[str],
                  options: Mapping[str, Any]) -> List[str]:
    """``merit serve`` with its options; ``options`` maps ``name_like_this`` to ``--name-like-this``
    (``True`` is a bare flag, ``None``/``False`` are left out)."""
    command = [binary, "serve"]
    if data is None:
        data = os.environ.get("MERIT_DATA") or None
    if data is not None:
        command += ["--data", os.fspath(data)]
    named = {"clock": clock, "seed": seed, "log_level": log_level, "max_line_bytes": max_line_bytes}
    named.update(options)
    for name, value in named.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        command += [flag] if value is True else [flag, str(value)]
    command += [str(a) for a in args]
    return command


def child_environment(env: Optional[Mapping[str, str]], replace_env: bool) -> Dict[str, str]:
    """The child's environment: ours (unless ``replace_env``) updated with ``env``. ``MERIT_API_KEY``
    is removed unless ``env`` sets it, since the client authenticates with ``initialize``."""
    result: Dict[str, str] = {} if replace_env else dict(os.environ)
    result.pop("MERIT_API_KEY", None)
    if env:
        result.update({str(k): str(v) for k, v in env.items()})
    return result


def resolve_api_key(api_key: Optional[str]) -> Optional[str]:
    return api_key if api_key is not None else (os.environ.get("MERIT_API_KEY") or None)


# ---------------------------------------------------------------------------------------------
# stderr


class StderrTail:
    """The last ``limit`` lines of a stream, fed in chunks; a line longer than
    :data:`MAX_STDERR_LINE` keeps only its end, so memory stays bounded whatever the child writes."""

    def __init__(self, limit: int = DEFAULT_STDERR_LINES) -> None:
        self._lines: Deque[str] = collections.deque(maxlen=max(1, limit))
        self._partial = bytearray()
        self._cut = False
        self._lock = threading.Lock()
        self.total_bytes = 0

    def feed(self, chunk: bytes) -> None:
        with self._lock:
            self.total_bytes += len(chunk)
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                if end < 0:
                    self._append_partial(chunk[start:])
                    return
                self._append_partial(chunk[start:end])
                self._finish_line()
                start = end + 1

    def finish(self) -> None:
        with self._lock:
            if self._partial or self._cut:
                self._finish_line()

    def _append_partial(self, piece: bytes) -> None:
        self._partial += piece
        if len(self._partial) > MAX_STDERR_LINE:
            del self._partial[: len(self._partial) - MAX_STDERR_LINE]
            self._cut = True

    def _finish_line(self) -> None:
        text = self._partial.decode("utf-8", "replace").rstrip("\r")
        if self._cut:
            text = "[…] " + text
        self._lines.append(text)
        self._partial = bytearray()
        self._cut = False

    def lines(self) -> List[str]:
        """The last lines, oldest first (with the unfinished last line, if any)."""
        with self._lock:
            result = list(self._lines)
            if self._partial:
                result.append(("[…] " if self._cut else "") + self._partial.decode("utf-8", "replace"))
            return result[-(self._lines.maxlen or 1):]


def exit_error(returncode: Optional[int], tail: Sequence[str], pending: int) -> ServerExited:
    """:class:`ServerExited` with the exit status and the last stderr lines."""
    what = f"merit serve {describe_exit(returncode)}"
    if pending:
        what += f" ({pending} request{'s' if pending != 1 else ''} unanswered)"
    if tail:
        message = what + "; its last stderr lines:\n" + "\n".join("  " + line for line in tail)
    else:
        message = what + " (it wrote nothing to stderr)."
    return ServerExited(message, returncode=returncode, stderr_tail=tail)


# ---------------------------------------------------------------------------------------------
# The wire


def encode(message: Any) -> bytes:
    """One JSON-RPC message (object or batch array) as one UTF-8 line ending in ``\\n``.

    NaN and infinities raise ``ValueError`` (JSON has none), lone surrogates ``UnicodeEncodeError``,
    before anything is sent."""
    return (json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def make_params(args: Tuple[Any, ...], kwargs: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The ``params`` object of a call written ``method(mapping?, **kwargs)``.

    A keyword named after a Python keyword plus ``_`` (``from_``, ``class_``) is sent without the
    ``_``. ``None`` (no ``params`` member) when there is nothing to send."""
    if len(args) > 1:
        raise TypeError("a Merit method takes its params by name: at most one positional mapping, then keywords")
    params: Dict[str, Any] = {}
    if args:
        if args[0] is not None:
            if not isinstance(args[0], Mapping):
                raise TypeError(f"params must be a mapping, not {type(args[0]).__name__}")
            params.update(args[0])
    for name, value in kwargs.items():
        if name.endswith("_") and keyword.iskeyword(name[:-1]):
            name = name[:-1]
        params[name] = value
    return params if (params or args) else None


def request(method: str, params: Any, request_id: Any = None, *, notification: bool = False) -> Dict[str, Any]:
    message: Dict[str, Any] = {"jsonrpc": "2.0"}
    if not notification:
        message["id"] = request_id
    message["method"] = method
    if params is not None:
        message["params"] = params
    return message


# ---------------------------------------------------------------------------------------------
# Matching responses to requests


class Pending:
    """One request waiting for its answer."""

    __slots__ = ("id", "method", "future", "unit")

    def __init__(self, request_id: int, method: str, future: Any, unit: int) -> None:
        self.id = request_id
        self.method = method
        self.future = future
        self.unit = unit


class Router:
    """The requests in flight, by id, grouped in *units* (what one line sent: a request or a batch).

    The server answers in the order it reads, so a response with ``id: null`` (a line it could not
    parse, for instance one longer than ``max_line_bytes``) belongs to the oldest unit still waiting.
    Thread-safe; completing the futures is left to the caller, outside the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 0
        self._next_unit = 0
        self._pending: Dict[int, Pending] = {}
        self._units: "collections.OrderedDict[int, List[int]]" = collections.OrderedDict()
        self.failure: Optional[MeritError] = None

    def add(self, methods: Sequence[str], make_future: Callable[[], Any]) -> List[Pending]:
        """Register one unit of requests; raises :attr:`failure` if the router is closed."""
        with self._lock:
            if self.failure is not None:
                raise self.failure
            unit = self._next_unit
            self._next_unit += 1
            entries = []
            for method in methods:
                self._next_id += 1
                entry = Pending(self._next_id, method, make_future(), unit)
                self._pending[entry.id] = entry
                entries.append(entry)
            if entries:
                self._units[unit] = [e.id for e in entries]
            return entries

    def take(self, request_id: Any) -> Optional[Pending]:
        with self._lock:
            if isinstance(request_id, bool) or not isinstance(request_id, int):
                return None
            entry = self._pending.pop(request_id, None)
            if entry is not None:
                ids = self._units.get(entry.unit)
                if ids is not None:
                    ids.remove(entry.id)
                    if not ids:
                        del self._units[entry.unit]
            return entry

    def discard(self, entries: Iterable[Pending]) -> None:
        for entry in entries:
            self.take(entry.id)

    def take_oldest_unit(self) -> List[Pending]:
        with self._lock:
            if not self._units:
                return []
            _, ids = self._units.popitem(last=False)
            return [self._pending.pop(i) for i in ids if i in self._pending]

    def close(self, failure: MeritError) -> List[Pending]:
        """Refuse new requests with ``failure`` (if none yet) and return every pending one."""
        with self._lock:
            if self.failure is None:
                self.failure = failure
            entries = list(self._pending.values())
            self._pending.clear()
            self._units.clear()
            return entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)


Completion = Tuple[Any, Optional[BaseException], Any]  # (future, exception or None, result)


def route(message: Any, router: Router, on_event: Callable[[Event], None]) -> List[Completion]:
    """What one decoded line means: the futures to complete, and events handed to ``on_event``."""
    completions: List[Completion] = []
    if isinstance(message, list):
        for item in message:
            completions += _route_one(item, router, on_event, in_batch=True)
    else:
        completions += _route_one(message, router, on_event, in_batch=False)
    return completions


def _route_one(message: Any, router: Router, on_event: Callable[[Event], None], *, in_batch: bool) -> List[Completion]:
    if not isinstance(message, dict):
        log.warning("merit wrote a message that is not an object: %r", message)
        return []
    if "method" in message and "id" not in message:
        if message.get("method") == EVENT_METHOD:
            params = message.get("params")
            on_event(Event(params if isinstance(params, dict) else {"data": params}))
        else:
            log.debug("ignored a notification from merit: %r", message.get("method"))
        return []
    if "result" not in message and "error" not in message:
        log.warning("merit wrote a message that is neither a response nor a notification: %r", message)
        return []
    request_id = message.get("id")
    if request_id is None and "error" in message and not in_batch:
        entries = router.take_oldest_unit()
        if not entries:
            log.warning("merit answered an error to no request: %r", message)
        return [(e.future, error_from_response(message["error"], method=e.method, request_id=e.id), None)
                for e in entries]
    entry = router.take(request_id)
    if entry is None:
        log.debug("dropped an answer to no pending request (timed out or cancelled?): id %r", request_id)
        return []
    if "error" in message:
        return [(entry.future, error_from_response(message["error"], method=entry.method, request_id=entry.id), None)]
    return [(entry.future, None, message["result"])]


def decode_line(line: bytes) -> Any:
    """A line of merit's stdout as JSON; :class:`ProtocolError` if it is not."""
    try:
        return json.loads(line)
    except ValueError as error:
        raise ProtocolError(f"merit wrote a line that is not JSON ({error}): {line[:200]!r}") from None


# ---------------------------------------------------------------------------------------------
# Method names


class MethodTable:
    """The method names of ``rpc.discover`` (plus :data:`BUILTIN_METHODS`), and the namespaces their
    dots make (``performance.reviews`` for ``performance.reviews.get``)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names) | frozenset(BUILTIN_METHODS)
        self.prefixes = frozenset(
            ".".join(parts[:i]) for parts in (n.split(".") for n in self.names) for i in range(1, len(parts)))

    @classmethod
    def from_discover(cls, document: Any) -> "MethodTable":
        methods = document.get("methods") if isinstance(document, dict) else None
        if not isinstance(methods, list):
            raise ProtocolError("rpc.discover answered without a methods list")
        return cls(m["name"] for m in methods if isinstance(m, dict) and isinstance(m.get("name"), str))

    def is_method(self, name: str) -> bool:
        return name in self.names

    def is_known(self, name: str) -> bool:
        return name in self.names or name in self.prefixes

    def children(self, prefix: str) -> List[str]:
        """The next name segments under ``prefix`` (``""`` for the top level)."""
        start = prefix + "." if prefix else ""
        found = {n[len(start):].split(".")[0] for n in self.names if n.startswith(start) and n != prefix}
        return sorted(s for s in found if s.isidentifier())

    def suggest(self, name: str) -> List[str]:
        candidates = sorted(c for c in self.names | self.prefixes if not name.startswith(c + "."))
        return difflib.get_close_matches(name, candidates, n=5, cutoff=0.6)

    def unknown(self, name: str, *, namespace_called: bool = False) -> UnknownMethod:
        if namespace_called:
            under = sorted(n for n in self.names if n.startswith(name + "."))
            message = f"{name} is a namespace, not a method; its methods are: {', '.join(under)}."
            return UnknownMethod(message, name=name, suggestions=under)
        suggestions = self.suggest(name)
        message = f"merit has no method or namespace named {name!r} (rpc.discover does not list it)"
        message += f"; did you mean {' or '.join(suggestions)}?" if suggestions else "."
        message += " Use call(name, params) to send any method name as it is."
        return UnknownMethod(message, name=name, suggestions=suggestions)


def _segment(table: MethodTable, prefix: str, attribute: str) -> str:
    name = f"{prefix}.{attribute}" if prefix else attribute
    if not table.is_known(name) and attribute.endswith("_") and keyword.iskeyword(attribute[:-1]):
        name = name[:-1]
    return name


class Namespace:
    """``merit.people`` and ``merit.people.create``: attribute access builds a dotted method name,
    checked against the method table at each step (so a typo raises :class:`UnknownMethod` before
    anything is sent); calling it calls ``invoke(name, params)`` with the keywords as ``params``."""

    __slots__ = ("_invoke", "_table", "_name")

    def __init__(self, invoke: Callable[[str, Optional[Dict[str, Any]]], Any], table: MethodTable, name: str) -> None:
        object.__setattr__(self, "_invoke", invoke)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attribute: str) -> "Namespace":
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return child_namespace(self._invoke, self._table, self._name, attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        raise AttributeError(f"cannot set {attribute} on the {self._name} namespace")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._table.is_method(self._name):
            raise self._table.unknown(self._name, namespace_called=True)
        return self._invoke(self._name, make_params(args, kwargs))

    def __dir__(self) -> List[str]:
        return self._table.children(self._name)

    def __repr__(self) -> str:
        kind = "method" if self._table.is_method(self._name) else "namespace"
        return f"<merit {kind} {self._name}>"


def child_namespace(invoke: Callable[..., Any], table: MethodTable, prefix: str, attribute: str) -> Namespace:
    name = _segment(table, prefix, attribute)
    if not table.is_known(name):
        raise table.unknown(name)
    return Namespace(invoke, table, name)


class EventBuffer:
    """Events received and not yet taken, oldest first, at most ``limit`` (the oldest are dropped and
    counted in :attr:`dropped`). Not synchronised: each client guards it its own way."""

    def __init__(self, limit: Optional[int]) -> None:
        self.items: Deque[Event] = collections.deque(maxlen=limit if limit and limit > 0 else None)
        self.dropped = 0

    def push(self, event: Event) -> None:
        if self.items.maxlen is not None and len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append(event)


def client_info(name: str, version: Optional[str]) -> Dict[str, Any]:
    info: Dict[str, Any] = {"name": name}
    if version is not None:
        info["version"] = version
    return info


def initialize_params(name: str, version: Optional[str], api_key: Optional[str]) -> Dict[str, Any]:
    params: Dict[str, Any] = {"protocol_version": PROTOCOL_VERSION, "client_info": client_info(name, version)}
    if api_key:
        params["api_key"] = api_key
    return params


class SessionInfo:
    """What ``initialize`` answered, kept on the client."""

    def __init__(self) -> None:
        self.initialize_result: Optional[Dict[str, Any]] = None

    def update(self, result: Any) -> None:
        if isinstance(result, dict):
            self.initialize_result = result


def session_property(key: str, doc: str) -> Any:
    def getter(self: Any) -> Any:
        result = self._session.initialize_result
        return result.get(key) if result else None

    return property(getter, doc=doc)


def note_initialize(session: SessionInfo, method: str, result: Any) -> None:
    if method == "initialize":
        session.update(result)




def copy_error(error: BaseException) -> BaseException:
    """A copy of ``error`` to raise in one more place (each waiter gets its own traceback)."""
    try:
        return copy.copy(error)
    except Exception:  # pragma: no cover - every client error copies
        return error


# ---------------------------------------------------------------------------------------------
# The half of a client that does not depend on how it waits


Item = Tuple[str, Any, bool]  # (method, params, is_notification)


class ClientBase:
    """What :class:`merit_client.Merit` and :class:`merit_client.AsyncMerit` share: the constructor
    and its arguments, the state of a session (router, method table, ``initialize`` result, stderr
    tail, events), the attributes read from it, the method namespace, turning calls into a line to
    write, and settling the requests in flight when an answer comes or the session ends.

    A subclass does the I/O and the waiting: it spawns the child with :meth:`_spawn_spec`, writes the
    line :meth:`_encode_unit` makes, feeds each line of stdout to :meth:`_handle_line`, calls
    :meth:`_session_ended` when stdout ends and :meth:`_fail_unanswered` at the end of ``close``, and
    provides ``call``, ``notify``, ``next_event``, ``on_event``, ``close`` and the hooks below.
    """

    #: The name :meth:`__repr__` gives.
    _class_name = "ClientBase"
    #: The child's process id: each client defines it.
    pid: Any
    #: Guards the event state (buffer, callbacks, end flag). :class:`~merit_client.Merit` replaces it
    #: with a ``threading.Condition``; :class:`~merit_client.AsyncMerit` touches its events only on
    #: the event loop, so for it this does nothing.
    _event_lock: Any = contextlib.nullcontext()

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
        on_event: Optional[Callable[[Event], Any]] = None,
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
        self._callbacks: List[Callable[[Event], Any]] = []
        self._proc: Any = None
        self._closing = False
        #: The ``merit serve`` command line (empty until the child is spawned).
        self.command: List[str] = []
        self._setup()
        if on_event is not None:
            self.on_event(on_event)
        self._constructed()

    # -- hooks of the subclasses ---------------------------------------------------------------

    def _setup(self) -> None:
        """Make the subclass's own state (locks, queues, tasks); called before ``on_event``."""

    def _constructed(self) -> None:
        """Called last by ``__init__`` (:class:`~merit_client.Merit` starts the session here)."""

    def on_event(self, callback: Callable[[Event], Any]) -> Callable[[Event], Any]:
        """Call ``callback(event)`` for every ``event`` notification (each client says where)."""
        raise NotImplementedError  # pragma: no cover

    def call(self, method: str, params: Any = None, *, timeout: Any = DEFAULT) -> Any:
        """Send the request ``method`` and return (or, for asyncio, make awaitable) its result."""
        raise NotImplementedError  # pragma: no cover

    def _wake_event_waiters(self) -> None:
        """Wake whoever waits for an event (called holding :attr:`_event_lock`)."""
        raise NotImplementedError  # pragma: no cover

    def _dispatch_event(self, event: Event) -> None:
        """Hand ``event`` to the callbacks (called holding :attr:`_event_lock`)."""
        raise NotImplementedError  # pragma: no cover

    # -- starting ------------------------------------------------------------------------------

    def _spawn_spec(self) -> Tuple[List[str], Dict[str, str], Optional[str]]:
        """The child's command line (kept in :attr:`command`), environment and working directory."""
        binary = find_binary(self._binary)
        self.command = serve_command(binary, self._data, **self._serve_options)
        return self.command, child_environment(self._env, self._replace_env), self._cwd

    def _handshake(self) -> Tuple[Item, Item]:
        """The first two requests of a session: ``initialize`` (with the API key) and ``rpc.discover``."""
        key = resolve_api_key(self._api_key)
        return (("initialize", initialize_params(self._client_name, self._client_version, key), False),
                ("rpc.discover", None, False))

    def _learn_methods(self, document: Any) -> None:
        """Keep the ``rpc.discover`` document and the method table it makes."""
        self._discover_result = document
        self._table = MethodTable.from_discover(document)

    # -- the session ---------------------------------------------------------------------------

    protocol_version = session_property("protocol_version", "The protocol version ``initialize`` answered.")
    server_info = session_property("server_info", "``{name, version}`` of the server, from ``initialize``.")
    capabilities = session_property("capabilities", "``{batch, max_line_bytes}``, from ``initialize``.")
    principal = session_property("principal", "The key the session is authenticated with (``None`` if it is "
                                               "not), as of the last ``initialize``.")

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (or is running)."""
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
        state = "closed" if self._closing else ("open" if self._proc else "not started")
        return f"<{self._class_name} pid={self.pid} {state}>"

    # -- calls ---------------------------------------------------------------------------------

    def _invoke(self, method: str, params: Any) -> Any:
        return self.call(method, params)

    def _encode_unit(self, items: Sequence[Item], *, batch: bool, internal: bool,
                     make_future: Callable[[], Any]) -> Tuple[List[Pending], bytes]:
        """Register the requests of ``items`` (one line: a message, or a batch array if ``batch``)
        and encode it. Raises :class:`ClientClosed` once closing, unless ``internal`` (the client's
        own ``shutdown``/``exit``); a message that does not encode registers nothing."""
        if self._closing and not internal:
            raise ClientClosed("the Merit client is closed", method=items[0][0] if items else None)
        requests = [method for method, _, notification in items if not notification]
        entries = self._router.add(requests, make_future)
        try:
            ids = iter(entries)
            messages = [request(method, params, None if notification else next(ids).id, notification=notification)
                        for method, params, notification in items]
            line = encode(messages if batch else messages[0])
        except BaseException:
            self._router.discard(entries)
            raise
        return entries, line

    def _wait_timeout(self, timeout: Any) -> Optional[float]:
        return self._timeout if timeout is DEFAULT else timeout

    @contextlib.contextmanager
    def _waiting(self, entry: Pending) -> Iterator[None]:
        """Around a wait for ``entry``'s answer: if it ends in an error (a timeout, a cancellation, an
        interrupt), forget ``entry``, so that a late answer is dropped."""
        try:
            yield
        except BaseException:
            self._router.discard([entry])
            raise

    def _timed_out(self, entry: Pending, timeout: Optional[float]) -> Any:
        """After waiting ``timeout`` seconds in vain: forget ``entry`` and raise
        :class:`RequestTimeout`, unless its answer came in the meantime (then its result)."""
        self._router.discard([entry])
        if entry.future.done() and not entry.future.cancelled():
            return entry.future.result()
        raise RequestTimeout(f"{entry.method} got no answer within {timeout} s.", method=entry.method,
                             request_id=entry.id) from None

    def _answered(self, entry: Pending, result: Any) -> Any:
        note_initialize(self._session, entry.method, result)
        return result

    # -- events --------------------------------------------------------------------------------

    def off_event(self, callback: Callable[[Event], Any]) -> None:
        """Stop calling ``callback``."""
        with self._event_lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

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

    def _event_waits(self, timeout: Optional[float]) -> Iterator[Optional[float]]:
        """``next_event``'s loop, without the waiting: while there is no event to take, how long to
        wait for one (``None``: no limit); it stops at the timeout, and raises (a copy of) the
        session's failure once the session is over. The caller waits between two steps, holding
        :attr:`_event_lock` while it takes one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._events.items:
            if self._events_over:
                raise copy_error(self._router.failure or ClientClosed("the Merit client is closed"))
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            yield remaining

    def _take_event(self) -> Optional[Event]:
        """The oldest event, once :meth:`_event_waits` has stopped (``None`` at the timeout)."""
        return self._events.items.popleft() if self._events.items else None

    def _deliver_event(self, event: Event) -> None:
        with self._event_lock:
            self._events.push(event)
            self._wake_event_waiters()
            self._dispatch_event(event)

    def _end_events(self) -> None:
        with self._event_lock:
            self._events_over = True
            self._wake_event_waiters()

    # -- answers and the end of the session ----------------------------------------------------

    def _handle_line(self, line: bytes) -> None:
        """One line of stdout: settle the requests it answers, deliver the events it carries."""
        if not line.strip():
            return
        try:
            message = decode_line(line)
        except ProtocolError as error:
            log.warning("%s", error)
            return
        for future, error, result in route(message, self._router, self._deliver_event):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def _session_ended(self, returncode: Optional[int]) -> None:
        """stdout has ended (the child is gone, with ``returncode`` if reaped): fail every request in
        flight, and every later one, with :class:`ServerExited` (or :class:`ClientClosed` when
        closing), and end the events."""
        tail = self._stderr.lines()
        failure: MeritError
        if self._closing:
            failure = ClientClosed(f"the Merit client was closed before merit answered "
                                   f"(merit serve {describe_exit(returncode)}).")
        else:
            failure = exit_error(returncode, tail, len(self._router))
        for entry in self._router.close(failure):
            if not entry.future.done():
                error = copy_error(failure)
                if isinstance(error, MeritError):
                    error.method, error.request_id = entry.method, entry.id
                entry.future.set_exception(error)
        self._end_events()

    def _fail_unanswered(self) -> None:
        """At the end of ``close``: fail what is still in flight with :class:`ClientClosed`, and end
        the events."""
        for entry in self._router.close(ClientClosed("the Merit client is closed")):
            if not entry.future.done():
                entry.future.set_exception(ClientClosed("the Merit client was closed before merit answered.",
                                                        method=entry.method, request_id=entry.id))
        self._end_events()


class EventsNamespace:
    """``merit.events``: a namespace of the server's ``events.*`` methods; each client makes it
    callable its own way (an iterator, or an async iterator, over events)."""

    __slots__ = ("_client",)

    def __init__(self, client: ClientBase) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Namespace:
        if name.startswith("__") or self._client._table is None:
            raise AttributeError(name)
        return child_namespace(self._client._invoke, self._client._table, "events", name)


class BatchItemBase:
    """One call of a batch: its result once the batch is sent, kept in a future."""

    __slots__ = ("method", "params", "_future")

    def __init__(self, method: str, params: Any, future: Any) -> None:
        self.method = method
        self.params = params
        self._future = future

    def done(self) -> bool:
        """Whether the answer is in."""
        return self._future.done()

    def result(self) -> Any:
        """The result; raises the call's error. ``RuntimeError`` before the batch is sent."""
        self._check_sent()
        return self._future.result()

    def exception(self) -> Optional[BaseException]:
        """The call's error, or ``None`` if it succeeded."""
        self._check_sent()
        return self._future.exception()

    def _check_sent(self) -> None:
        if not self._future.done():
            raise RuntimeError(f"the batch holding {self.method} has not been sent yet")


ItemT = TypeVar("ItemT", bound=BatchItemBase)


class BatchBase(Generic[ItemT]):
    """Calls collected, then sent as one JSON-RPC batch: what :class:`merit_client.Batch` and
    :class:`merit_client.AsyncBatch` share. A subclass makes its items (:meth:`_new_item`) and sends."""

    def __init__(self, client: Any, timeout: Any = DEFAULT) -> None:
        self._client = client
        self._timeout = timeout
        self._items: List[Tuple[str, Any, bool, Optional[ItemT]]] = []
        self._sent = False
        #: Every request's result or exception, in order, once sent.
        self.results: Optional[List[Any]] = None

    def _new_item(self, method: str, params: Any) -> ItemT:
        """A new item, its future not yet settled (each client makes its own kind)."""
        raise NotImplementedError  # pragma: no cover

    def call(self, method: str, params: Any = None) -> ItemT:
        """Add the request ``method`` (any name, unchecked)."""
        self._check_open()
        item = self._new_item(method, params)
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

    def _begin_send(self) -> List[ItemT]:
        """Mark the batch sent; its request items, in order."""
        self._check_open()
        self._sent = True
        self.results = []
        return [item for _, _, _, item in self._items if item is not None]

    def _unit(self) -> List[Item]:
        return [(m, p, n) for m, p, n, _ in self._items]

    def _deadline(self) -> Optional[float]:
        timeout = self._client._timeout if self._timeout is DEFAULT else self._timeout
        return None if timeout is None else time.monotonic() + timeout

    @staticmethod
    def _remaining(deadline: Optional[float]) -> Optional[float]:
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _collect(self, requests: List[ItemT]) -> List[Any]:
        exceptions = [item.exception() for item in requests]
        self.results = [error if error is not None else item.result() for item, error in zip(requests, exceptions)]
        return self.results
