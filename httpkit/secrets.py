"""Every form in which a message can quote a secret, so that none of them is ever shown.

An API token or key rides in a header; when something goes wrong, libraries quote it in their
messages in many guises: h11's "Illegal header value b'<secret>\\n'" writes Python's repr of
bytes, a JSON log line escapes quotes and non-ASCII, a URL escapes everything. Redacting the
plain value alone missed every one of those.
"""

from __future__ import annotations

import json
from urllib.parse import quote


def secret_forms(value: str) -> set[str]:
    """The ways a message can quote `value`: as is and stripped of the whitespace a mounted
    secret file leaves, as Python's repr of it as text or as bytes, and as JSON, unicode and
    URL escaping write it. Empty forms are left out."""
    forms = set()
    for text in {value, value.strip()}:
        encoded = text.encode("utf-8", "backslashreplace")
        forms |= {
            text,
            repr(text)[1:-1],
            repr(encoded)[2:-1],
            text.encode("unicode_escape").decode("ascii"),
            json.dumps(text)[1:-1],
            json.dumps(text, ensure_ascii=False)[1:-1],
            quote(text, safe=""),
        }
    return forms - {""}


def redact(text: str, secret: str, mask: str = "[redacted]") -> str:
    """`text` with every form of `secret` replaced by `mask` (longest first, so no part of a
    longer form is left behind)."""
    if not secret:
        return text
    for form in sorted(secret_forms(secret), key=len, reverse=True):
        text = text.replace(form, mask)
    return text
