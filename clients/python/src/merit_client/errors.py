"""Exceptions raised by the Merit client.

Every error the server answers is ``{code, message, data: {status, code, details?}}``
(Protocol/README.md, "Errors"). The client raises it as an instance of the subclass of
:class:`MeritError` named after ``data.code``:

=========================  ========================  ======  ==============
class                      ``data.code``              status  JSON-RPC code
=========================  ========================  ======  ==============
:class:`ParseError`        ``parse_error``            400     -32700
:class:`InvalidRequest`    ``invalid_request``        400     -32600
:class:`MethodNotFound`    ``method_not_found``       404     -32601
:class:`ValidationError`   ``validation_error``       400     -32602
:class:`AuthenticationRequired` ``authentication_required`` 401 -32001
:class:`PermissionDenied`  ``permission_denied``      403     -32003
:class:`NotFound`          ``not_found``              404     -32004
:class:`Conflict`          ``conflict``               409     -32009
:class:`Unprocessable`     ``unprocessable``          422     -32022
:class:`StorageUnavailable` ``storage_unavailable``   503     -32050
:class:`InternalError`     ``internal_error``         500     -32603
=========================  ========================  ======  ==============

Failures that happen on the client's side of the pipe are :class:`ClientError` subclasses (also
``MeritError``): :class:`ServerExited` (the child died; the message has its exit status and last
stderr lines), :class:`ClientClosed`, :class:`RequestTimeout`, :class:`UnknownMethod` (a dotted
name that ``rpc.discover`` does not list; also an ``AttributeError``), :class:`BinaryNotFound` and
:class:`ProtocolError`.
"""
from __future__ import annotations

import signal
from typing import Any, Dict, List, Mapping, Optional, Sequence

__all__ = [
    "MeritError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "ValidationError",
    "AuthenticationRequired",
    "PermissionDenied",
    "NotFound",
    "Conflict",
    "Unprocessable",
    "StorageUnavailable",
    "InternalError",
    "ClientError",
    "ServerExited",
    "ClientClosed",
    "RequestTimeout",
    "UnknownMethod",
    "BinaryNotFound",
    "ProtocolError",
    "error_from_response",
]


class MeritError(Exception):
    """Base class of every error of the Merit client.

    Attributes:
        code: the error's ``data.code`` (``"validation_error"``, ``"not_found"``, …); for client-side
            errors a name of the client's own (``"server_exited"``, ``"client_closed"``, …).
        status: the HTTP-like ``data.status`` (400, 404, …), or ``None`` for client-side errors.
        rpc_code: the JSON-RPC ``code`` (-32602, …), or ``None`` for client-side errors.
        message: the server's one-sentence message.
        details: the ``data.details`` list of ``{field, problem}`` (empty when there is none).
        data: the whole ``data`` object as received (``{}`` for client-side errors).
        method: the method of the request that failed, when known.
        request_id: the id of the request that failed, when known.
    """

    #: The ``data.code`` this class stands for (``None`` on the base class).
    error_code: Optional[str] = None

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        status: Optional[int] = None,
        rpc_code: Optional[int] = None,
        details: Optional[Sequence[Mapping[str, Any]]] = None,
        data: Optional[Mapping[str, Any]] = None,
        method: Optional[str] = None,
        request_id: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.error_code
        self.status = status
        self.rpc_code = rpc_code
        self.details: List[Dict[str, Any]] = [dict(d) for d in details] if details else []
        self.data: Dict[str, Any] = dict(data) if data else {}
        self.method = method
        self.request_id = request_id

    @property
    def fields(self) -> List[str]:
        """The ``field`` of every entry of :attr:`details`, in order."""
        return [str(d.get("field")) for d in self.details if "field" in d]

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        if self.code is not None:
            parts.append(f"code={self.code!r}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.details:
            parts.append(f"details={self.details!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ParseError(MeritError):
    """``parse_error`` (400, -32700): the line was not JSON, not UTF-8, nested too deep or too long."""

    error_code = "parse_error"


class InvalidRequest(MeritError):
    """``invalid_request`` (400, -32600): not a valid request, or the server is shutting down."""

    error_code = "invalid_request"


class MethodNotFound(MeritError):
    """``method_not_found`` (404, -32601): the server has no such method."""

    error_code = "method_not_found"


class ValidationError(MeritError):
    """``validation_error`` (400, -32602): missing, unknown or malformed params; see :attr:`details`."""

    error_code = "validation_error"


class AuthenticationRequired(MeritError):
    """``authentication_required`` (401, -32001): no API key, or an unknown or revoked one."""

    error_code = "authentication_required"


class PermissionDenied(MeritError):
    """``permission_denied`` (403, -32003): the principal lacks the permission or scope."""

    error_code = "permission_denied"


class NotFound(MeritError):
    """``not_found`` (404, -32004): no such id, or not visible to the principal."""

    error_code = "not_found"


class Conflict(MeritError):
    """``conflict`` (409, -32009): a duplicate, or a status transition that is not allowed."""

    error_code = "conflict"


class Unprocessable(MeritError):
    """``unprocessable`` (422, -32022): a referenced record is not in this organization."""

    error_code = "unprocessable"


class StorageUnavailable(MeritError):
    """``storage_unavailable`` (503, -32050): the log cannot be written; nothing was changed."""

    error_code = "storage_unavailable"


class InternalError(MeritError):
    """``internal_error`` (500, -32603): a bug in merit."""

    error_code = "internal_error"


class ClientError(MeritError):
    """A failure on the client's side of the pipe (no error object from the server)."""


class ServerExited(ClientError):
    """The ``merit serve`` child exited (or was killed) while the client needed it.

    Attributes:
        returncode: the child's exit status (negative: killed by that signal), or ``None`` if it
            closed its output without exiting.
        stderr_tail: the child's last lines of stderr.
    """

    error_code = "server_exited"

    def __init__(self, message: str, *, returncode: Optional[int] = None,
                 stderr_tail: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.returncode = returncode
        self.stderr_tail = list(stderr_tail)


class ClientClosed(ClientError):
    """The client was closed (by :meth:`close`) before the request was answered, or is closed."""

    error_code = "client_closed"


class RequestTimeout(ClientError, TimeoutError):
    """No answer came within the timeout; a late answer is dropped."""

    error_code = "request_timeout"


class UnknownMethod(ClientError, AttributeError):
    """A dotted method name (``merit.peopel.list``) that ``rpc.discover`` does not list.

    Raised before anything is sent. Attributes: ``name`` (the name tried) and ``suggestions``
    (close matches among the server's method names).
    """

    error_code = "unknown_method"

    def __init__(self, message: str, *, name: str = "", suggestions: Sequence[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.name = name
        self.suggestions = list(suggestions)


class BinaryNotFound(ClientError, FileNotFoundError):
    """The ``merit`` binary could not be found (argument, ``MERIT_BIN``, then ``PATH``)."""

    error_code = "binary_not_found"


class ProtocolError(ClientError):
    """The server wrote something that is not a JSON-RPC message the client understands."""

    error_code = "protocol_error"


_BY_CODE = {
    cls.error_code: cls
    for cls in (ParseError, InvalidRequest, MethodNotFound, ValidationError, AuthenticationRequired,
                PermissionDenied, NotFound, Conflict, Unprocessable, StorageUnavailable, InternalError)
}
_BY_RPC_CODE = {
    -32700: ParseError, -32600: InvalidRequest, -32601: MethodNotFound, -32602: ValidationError,
    -32001: AuthenticationRequired, -32003: PermissionDenied, -32004: NotFound, -32009: Conflict,
    -32022: Unprocessable, -32050: StorageUnavailable, -32603: InternalError,
}


def error_from_response(error: Any, *, method: Optional[str] = None, request_id: Any = None) -> MeritError:
    """The exception for a JSON-RPC ``error`` member: the class named by ``data.code`` (else by the
    JSON-RPC code, else :class:`MeritError`)."""
    if not isinstance(error, Mapping):
        return ProtocolError(f"the server answered with a malformed error: {error!r}", method=method,
                             request_id=request_id)
    data = error.get("data")
    data = data if isinstance(data, Mapping) else {}
    rpc_code = error.get("code") if isinstance(error.get("code"), int) else None
    code = data.get("code") if isinstance(data.get("code"), str) else None
    cls = _BY_CODE.get(code) if code else None
    if cls is None:
        cls = _BY_RPC_CODE.get(rpc_code, MeritError) if rpc_code is not None else MeritError
    message = error.get("message")
    details = data.get("details")
    status = data.get("status")
    return cls(
        message if isinstance(message, str) else repr(message),
        code=code if code is not None else cls.error_code,
        status=status if isinstance(status, int) else None,
        rpc_code=rpc_code,
        details=[d for d in details if isinstance(d, Mapping)] if isinstance(details, list) else None,
        data=data,
        method=method,
        request_id=request_id,
    )


def describe_exit(returncode: Optional[int]) -> str:
    """``exited with status 1`` / ``was killed by signal 9 (SIGKILL)`` / ``closed its output``."""
    if returncode is None:
        return "closed its output but has not exited"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    return f"exited with status {returncode}"
