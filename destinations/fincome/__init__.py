"""The Fincome destination: HTTP client, ledger and the `fincome` dlt destination factory.

from destinations.fincome import fincome, FincomeClient
"""

from destinations.fincome.client import FincomeClient, WriteResult
from destinations.fincome.destination import FincomePushFailed, FincomeRecordsRefused, fincome
from destinations.fincome.errors import (
    AuthenticationFailed,
    Conflict,
    ConnectionFailed,
    FincomeError,
    NotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    UnexpectedResponse,
    ValidationFailed,
)
from destinations.fincome.hints import column_hints
from destinations.fincome.ledger import LedgerEntry, LedgerStore, Reject
from destinations.fincome.settings import CollectionPaths, FincomeSettings

__all__ = [
    "AuthenticationFailed",
    "CollectionPaths",
    "Conflict",
    "ConnectionFailed",
    "FincomeClient",
    "FincomeError",
    "FincomePushFailed",
    "FincomeRecordsRefused",
    "FincomeSettings",
    "LedgerEntry",
    "LedgerStore",
    "NotFound",
    "RateLimited",
    "Reject",
    "RequestRejected",
    "ServerError",
    "UnexpectedResponse",
    "ValidationFailed",
    "WriteResult",
    "column_hints",
    "fincome",
]
