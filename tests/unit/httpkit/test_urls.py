"""Base-URL safety: TLS stays on; plain http only for loopback or when explicitly allowed."""

from __future__ import annotations

import pytest

from httpkit import InsecureBaseURLError, check_base_url

KEY = "DESTINATION__FINCOME__BASE_URL"


@pytest.mark.parametrize(
    "url",
    ["https://api2.fincome.co/product/", "http://127.0.0.1:8080", "http://localhost:1",
     "http://[::1]:9000", "http://127.10.0.3"],
)  # fmt: skip
def test_accepted(url: str) -> None:
    assert check_base_url(url, key=KEY) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    ["http://api2.fincome.co/product", "http://10.0.0.5", "ftp://x", "api.metronome.com", ""],
)
def test_refused_naming_the_key(url: str) -> None:
    with pytest.raises(InsecureBaseURLError, match=KEY):
        check_base_url(url, key=KEY)


def test_plain_http_elsewhere_needs_the_explicit_option() -> None:
    assert check_base_url("http://fincome.internal", key=KEY, allow_insecure_http=True)
