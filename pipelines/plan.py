"""The push plan of a data dir: the diff (`destinations.fincome.diff`) with our rules on top.

Two rules belong to this project, not to Fincome, and are decided here:
- frozen records (`frozen.py`): what Fincome keeps as last pushed while an open transform
  reject owns it is never updated or deleted;
- `only` (`rejects --retry`): a retry plans the records of its rejects, what belongs to
  them and the parents they need that Fincome lacks (`ownership.create_retry_scope`).
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb

from destinations.fincome.diff import (
    OPS,
    CollectionPlan,
    Op,
    PushPlan,
    diff,
    ledger_relation,
    schema_tables,
)
from pipelines.frozen import freeze
from pipelines.ownership import FincomeKey, create_retry_scope

__all__ = ["OPS", "CollectionPlan", "Op", "PushPlan", "plan_push"]


def plan_push(
    db: duckdb.DuckDBPyConnection,
    *,
    desired: str = "fincome",
    ledger: str = "fincome_sync",
    only: Collection[FincomeKey] | None = None,
) -> PushPlan:
    """The diff of the desired state against the ledger, frozen records held.

    With `only` (Fincome collection and id), just those records, what belongs to them and
    the parents they need that Fincome lacks.
    """
    scope = None
    if only is not None:
        present = schema_tables(db, desired)
        pushed = ledger_relation(db, ledger)
        scope = create_retry_scope(db, only, desired=desired, present=present, ledger=pushed)
    return diff(db, desired=desired, ledger=ledger, only=scope, frozen=freeze(db, ledger))
