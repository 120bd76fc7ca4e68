"""What the synchronous and the asyncio clients share: spawning options, the wire encoding, the
request router, the method table learnt from ``rpc.discover`` and the attribute namespaces that make
``merit.people.create(...)`` read like the wire name ``people.create``.

Nothing here does I/O; :mod:`merit_client.sync` and :mod:`merit_client.aio` do.
"""
from __future__ import annotations

import collections
import difflib
import json
import keyword
import logging
import os
import shutil
import threading
from typing import Any, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .errors import (BinaryNotFound, MeritError, ProtocolError, ServerExited, UnknownMethod, describe_exit,
                     error_from_response)

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


def add_session_properties(cls: type) -> type:
    for key, doc in (("protocol_version", "The protocol version ``initialize`` answered."),
                     ("server_info", "``{name, version}`` of the server, from ``initialize``."),
                     ("capabilities", "``{batch, max_line_bytes}``, from ``initialize``."),
                     ("principal", "The key the session is authenticated with (``None`` if it is not), "
                                   "as of the last ``initialize``.")):
        setattr(cls, key, session_property(key, doc))
    return cls


def note_initialize(session: SessionInfo, method: str, result: Any) -> None:
    if method == "initialize":
        session.update(result)


