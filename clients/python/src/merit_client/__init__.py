"""merit_client: the Python client of Merit, the performance-review engine driven by JSON-RPC 2.0
over stdio.

:class:`Merit` (threads) and :class:`AsyncMerit` (asyncio) spawn ``merit serve``, authenticate, learn
the method names from ``rpc.discover`` and turn attribute access into wire names::

    from merit_client import Merit, NotFound

    with Merit(data="./my-data", api_key="mk_…") as merit:
        ada = merit.people.create(name="Ada", email="ada@example.org", role="manager")
        try:
            merit.people.get(id="emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ")
        except NotFound as error:
            print(error.status, error.code, error.message)

Errors are :class:`MeritError` subclasses named after the server's ``data.code``; see
:mod:`merit_client.errors`. Only the standard library is used.
"""
from ._common import PROTOCOL_VERSION, Event
from .aio import AsyncBatch, AsyncMerit
from .errors import (AuthenticationRequired, BinaryNotFound, ClientClosed, ClientError, Conflict, InternalError,
                     InvalidRequest, MeritError, MethodNotFound, NotFound, ParseError, PermissionDenied, ProtocolError,
                     RequestTimeout, ServerExited, StorageUnavailable, UnknownMethod, Unprocessable, ValidationError)
from .sync import Batch, BatchItem, Merit

from ._version import __version__

__all__ = [
    "Merit", "AsyncMerit", "Batch", "BatchItem", "AsyncBatch", "Event", "PROTOCOL_VERSION",
    "MeritError", "ParseError", "InvalidRequest", "MethodNotFound", "ValidationError", "AuthenticationRequired",
    "PermissionDenied", "NotFound", "Conflict", "Unprocessable", "StorageUnavailable", "InternalError",
    "ClientError", "ServerExited", "ClientClosed", "RequestTimeout", "UnknownMethod", "BinaryNotFound",
    "ProtocolError", "__version__",
]
