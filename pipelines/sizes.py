"""Memory sizes as people write them (`512MiB`, `2GB`, `134217728B`) and as DuckDB shows them
(`122.0 MiB`)."""

from __future__ import annotations

import re

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(bytes|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)
_UNITS = {
    "bytes": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def size_bytes(text: str) -> int | None:
    """The size in bytes, or None when `text` is not a number with one of those units."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        return None
    number, unit = found.groups()
    return int(float(number) * _UNITS[unit.lower()])
