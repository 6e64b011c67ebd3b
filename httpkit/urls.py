"""Base-URL safety: TLS stays on, plain http only for loopback unless explicitly allowed."""

from __future__ import annotations

import ipaddress

import httpx


class InsecureBaseURLError(ValueError):
    """A base URL that is malformed or would send credentials in clear text. Names its key."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, key: str, allow_insecure_http: bool = False) -> str:
    """Return `url` without a trailing slash, or raise naming the configuration `key`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InsecureBaseURLError(key, f"not a valid URL ({exc})") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise InsecureBaseURLError(key, "must be an absolute http(s) URL")
    if parsed.scheme == "http" and not (allow_insecure_http or is_loopback_host(parsed.host)):
        raise InsecureBaseURLError(
            key,
            "plain http:// is only allowed for loopback hosts; use https:// "
            "or set allow_insecure_http = true for that endpoint",
        )
    return url.rstrip("/")
