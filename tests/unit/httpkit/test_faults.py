"""Setup faults: which transport errors no retry can fix, described without quoting the
request."""

from __future__ import annotations

import ssl

import httpx
import pytest

from httpkit import setup_fault

SECRET = "sk-live-0123456789\n"


def _wrapped(error: BaseException) -> httpx.ConnectError:
    """`error` as httpx raises it: re-raised `from` the one below."""
    try:
        try:
            raise error
        except BaseException as exc:
            raise httpx.ConnectError(str(exc)) from exc
    except httpx.ConnectError as wrapped:
        return wrapped


def _openssl(cls: type[ssl.SSLError], reason: str) -> ssl.SSLError:
    error = cls(1, f"[SSL: {reason}] {reason.lower()}")
    error.reason = reason  # set by OpenSSL on real errors
    return error


@pytest.mark.parametrize(
    ("exc", "kind", "detail"),
    [
        (_wrapped(_openssl(ssl.SSLError, "WRONG_VERSION_NUMBER")), "tls",
         "the server at h:1 did not answer TLS (WRONG_VERSION_NUMBER): it does not speak https"),
        (_wrapped(_openssl(ssl.SSLError, "RECORD_LAYER_FAILURE")), "tls", "does not speak https"),
        (_wrapped(_openssl(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION")), "tls",
         "the TLS handshake with h:1 failed (TLSV1_ALERT_PROTOCOL_VERSION)"),
        (_wrapped(_openssl(ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED")),
         "certificate", "the certificate of h:1 did not verify (CERTIFICATE_VERIFY_FAILED"),
        (httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET!r}'"), "header_value",
         "a header value holds a character HTTP forbids"),
        (httpx.LocalProtocolError("Illegal header name b'X API KEY'"), "header_name",
         "a header name holds a character HTTP forbids"),
        (httpx.LocalProtocolError(f"Too much data for declared Content-Length {SECRET}"),
         "request", "could not be written"),
        (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."),
         "protocol", "unsupported protocol 'ftp://'"),
    ],
)  # fmt: skip
def test_faults_no_retry_can_fix(exc: Exception, kind: str, detail: str) -> None:
    fault = setup_fault(exc, server="h:1")
    assert fault is not None
    assert fault.kind == kind
    assert detail in fault.detail
    assert SECRET.strip() not in fault.detail


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        _wrapped(ConnectionRefusedError(111, "Connection refused")),
        _wrapped(ssl.SSLEOFError(8, "EOF occurred in violation of protocol")),
        _wrapped(ssl.SSLZeroReturnError(6, "TLS/SSL connection has been closed")),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC]"),
    ],
)
def test_faults_a_retry_may_fix_are_not_setup_faults(exc: Exception) -> None:
    assert setup_fault(exc, server="h:1") is None
