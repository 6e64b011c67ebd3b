"""Fincome states as canonical bodies, so a server's records compare with the mapped state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from destinations.fincome.body import canonical_body
from destinations.fincome.schema import PUSH_ORDER

Bodies = dict[str, dict[str, dict[str, Any]]]


def desired(data_dir: Path) -> Bodies:
    """The mapped state (`fincome.*` in the data dir's DuckDB file), every collection."""
    state: Bodies = {}
    with duckdb.connect(str(data_dir / "billing_sync.duckdb")) as db:
        for spec in PUSH_ORDER:
            cursor = db.execute(f"SELECT * EXCLUDE (row_hash) FROM fincome.{spec.name}")
            columns = [d[0] for d in cursor.description]
            state[spec.name] = {
                row[0]: canonical_body(spec, dict(zip(columns, row, strict=True)))
                for row in cursor.fetchall()
            }
    return state


def canonical(records: dict[str, dict[str, dict[str, Any]]]) -> Bodies:
    """A server's records (`{collection: {id: record}}`) as canonical bodies, every collection."""
    return {
        spec.name: {i: canonical_body(spec, r) for i, r in records.get(spec.name, {}).items()}
        for spec in PUSH_ORDER
    }
