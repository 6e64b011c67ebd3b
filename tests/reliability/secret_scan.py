"""Where secrets could end up after a run, and a scan of it all for distinctive values.

`findings(secrets, places)` lists every (place, secret name) where a secret's value shows up
as UTF-8, UTF-16 or base64 bytes. Places are anything a run leaves: its stdout and stderr
(`outputs`), every file under a folder as raw bytes, binary files included (`files_under`),
and the text of every row of every table of a DuckDB file, since DuckDB compresses strings
and a byte grep of the file alone could miss one (`duckdb_text`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import duckdb

Place = tuple[str, bytes]  # (where, what it holds)


def findings(secrets: Mapping[str, str], places: Iterable[Place]) -> list[str]:
    needles = {name: _encodings(value) for name, value in secrets.items()}
    return [
        f"{name} in {where}"
        for where, content in places
        for name, encoded in needles.items()
        if any(needle in content for needle in encoded)
    ]


def outputs(label: str, stdout: str, stderr: str) -> Iterator[Place]:
    yield f"{label} stdout", stdout.encode()
    yield f"{label} stderr", stderr.encode()


def files_under(root: Path, *, skip: Iterable[Path] = ()) -> Iterator[Place]:
    skipped = {path.resolve() for path in skip}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.resolve() not in skipped:
            yield str(path), path.read_bytes()


def duckdb_text(path: Path) -> Iterator[Place]:
    """Every table of every schema, one place per table, its rows as text."""
    with duckdb.connect(str(path), read_only=True) as db:
        tables = db.execute("SELECT table_schema, table_name FROM information_schema.tables")
        for schema, table in tables.fetchall():
            rows = db.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            text = "\n".join(" ".join(str(value) for value in row) for row in rows)
            yield f"{path}:{schema}.{table}", text.encode()


def _encodings(value: str) -> tuple[bytes, ...]:
    raw = value.encode()
    return raw, value.encode("utf-16-le"), base64.b64encode(raw)
