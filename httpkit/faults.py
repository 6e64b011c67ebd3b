"""Transport faults no retry can fix, told without echoing what was sent.

A TLS handshake that fails (https to a plain-http port, a certificate that does not verify),
a request httpx refuses to write (an illegal header name or value) and a URL scheme it does
not support fail the same way on every try: retrying them only delays the message by the
whole retry budget. `setup_fault` recognises them and describes each in one line that never
quotes the request: h11's "Illegal header value b'...'" carries the header's value, which is
the API token or key.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Literal

import httpx

FaultKind = Literal["tls", "certificate", "header_name", "header_value", "request", "protocol"]

# OpenSSL's reasons when the peer answered something that is not TLS at all (plain HTTP)
_NOT_TLS_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"}
)
# Connection drops during the handshake: transient, retried like any dropped connection
_TRANSIENT_SSL = (ssl.SSLEOFError, ssl.SSLSyscallError, ssl.SSLZeroReturnError)


@dataclass(frozen=True)
class SetupFault:
    """What is wrong, as `kind` (for the caller to name its setting) and a one-line `detail`."""

    kind: FaultKind
    detail: str


def setup_fault(exc: BaseException, *, server: str) -> SetupFault | None:
    """The fault behind `exc` when no retry can fix it, else None. `server` is host:port."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        return SetupFault("protocol", str(exc))  # says which scheme, nothing of the request
    if isinstance(exc, httpx.LocalProtocolError):
        return _refused_request(str(exc))
    if isinstance(exc, httpx.ConnectError):
        return _tls_fault(_ssl_cause(exc), server)
    return None


def is_setup_fault(exc: BaseException) -> bool:
    return setup_fault(exc, server="") is not None


def _refused_request(text: str) -> SetupFault:
    """httpx refused to write the request; its text is read, never repeated."""
    if text.startswith("Illegal header name"):
        return SetupFault("header_name", "a header name holds a character HTTP forbids")
    if text.startswith("Illegal header value"):
        return SetupFault(
            "header_value",
            "a header value holds a character HTTP forbids (a line break or another "
            "control character)",
        )
    return SetupFault("request", "the request could not be written as valid HTTP/1.1")


def _tls_fault(error: ssl.SSLError | None, server: str) -> SetupFault | None:
    if error is None or isinstance(error, _TRANSIENT_SSL):
        return None
    if isinstance(error, ssl.SSLCertVerificationError):
        why = getattr(error, "verify_message", None) or _reason(error)
        return SetupFault(
            "certificate",
            f"the certificate of {server} did not verify (CERTIFICATE_VERIFY_FAILED: {why})",
        )
    reason = _reason(error)
    if reason in _NOT_TLS_REASONS:
        detail = f"the server at {server} did not answer TLS ({reason}): it does not speak https"
        return SetupFault("tls", f"{detail} there")
    return SetupFault("tls", f"the TLS handshake with {server} failed ({reason})")


def _reason(error: ssl.SSLError) -> str:
    """OpenSSL's reason code (`WRONG_VERSION_NUMBER`), set only on errors it raised."""
    return str(getattr(error, "reason", None) or error.strerror or "unknown")


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The `ssl.SSLError` httpx and httpcore wrapped (each re-raises `from` the one below)."""
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen:
        if isinstance(link, ssl.SSLError):
            return link
        seen.append(link)
        link = link.__cause__ or link.__context__
    return None
