"""Skipped invoices (not revenue) reach `fincome.skipped_records`, which `status` counts."""

from __future__ import annotations

import duckdb

from pipelines.status import _skipped
from pipelines.transform.bundle import UNBILLABLE, Skipped
from pipelines.transform.engine import Emitted
from pipelines.transform.runner import write_desired_state


def test_skipped_records_are_written_with_the_desired_state_and_counted_by_reason() -> None:
    db = duckdb.connect()
    before = _skipped(db)
    items = [
        Skipped("invoices", "inv-1", UNBILLABLE),
        Skipped("invoices", "inv-2", UNBILLABLE),
        Emitted("customers", {"id": "cus-1", "name": "Acme", "custom_properties": {}}),
    ]
    result = write_desired_state(db, items)
    assert (before["total"], result.skipped, result.rejects) == (0, 2, [])
    assert _skipped(db) == {
        "total": 2,
        "by_reason": [{"collection": "invoices", "reason": UNBILLABLE, "count": 2}],
    }
    write_desired_state(db, [])  # the next transform replaces them
    assert _skipped(db)["total"] == 0
