"""What a header can carry: field names are RFC 9110 tokens, credentials visible ASCII.

httpx refuses a bad header only when a request is built, and its message quotes the value
(`Illegal header value b'<secret>\\n'`), so a key with a stray newline leaked into every log
and output of the run. Settings check their header name and credential up front with these
functions; the problems they describe name a character's code point and position, never
the value itself.
"""

from __future__ import annotations

import re

# RFC 9110 §5.6.2: token = 1*tchar
_TCHAR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]")
FIELD_NAME_CHARACTERS = "letters, digits and !#$%&'*+-.^_`|~"


def field_name_problem(name: str) -> str | None:
    """Why `name` cannot be a header field name (`X-API-KEY`), or None when it can."""
    if not name:
        return "is empty"
    for position, char in enumerate(name, 1):
        if not _TCHAR.fullmatch(char):
            return (
                f"{name!r} is not an HTTP header name: it holds {_describe(char)} at position "
                f"{position} (only {FIELD_NAME_CHARACTERS})"
            )
    return None


def credential_problem(value: str) -> str | None:
    """Why `value` cannot be sent as a credential in a header, or None when it can.

    Only visible ASCII (`!` to `~`) is accepted: a space, a control character or non-ASCII
    text in a token or key is a copy-paste accident, and httpx would refuse the last two.
    The problem never quotes the value.
    """
    if not value:
        return "is empty"
    for position, char in enumerate(value, 1):
        if not "!" <= char <= "~":
            return f"holds {_describe(char)} (U+{ord(char):04X} at position {position})"
    return None


def _describe(char: str) -> str:
    if char == " ":
        return "a space"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return "a control character"
    if ord(char) > 0x7F:
        return "a non-ASCII character"
    return f"{char!r}"
