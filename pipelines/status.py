"""What `billing-sync status` reports, gathered from the data dir (read-only).

- runs: the latest runs from `fincome_sync.runs`, with the counts a person looks for first;
- entities: per Fincome collection, rows desired, rows Fincome acknowledged (ledger), the
  work still pending (the push plan) and the rows frozen under an open reject (`frozen.py`);
- cursor: the extract's per-customer invoice cursors (dlt state of `metronome_extract`);
- rejects: open rejects grouped by stage, collection and reason, and each open reject whose
  record Fincome holds as last pushed (frozen), since when and how many records;
- skipped: what the last transform left out on purpose as not revenue (unbillable and
  consolidated invoices; `fincome.skipped_records`), by collection and reason;
- running: null, or while another run holds the data dir (`running_status`), its progress
  snapshot (`running.py`); what lives in the DuckDB file is then null.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import duckdb
import orjson
from dlt.common.json import custom_pua_decode

from pipelines.datadir import DataDir
from pipelines.extract import PIPELINE_NAME as EXTRACT_PIPELINE
from pipelines.frozen import frozen_rejects
from pipelines.plan import OPS, plan_push
from pipelines.running import live_run
from pipelines.runs import RunLog
from pipelines.shards import ACCOUNT, read_scope
from pipelines.transform.tables import DEFAULT_SCHEMA, SKIPPED_TABLE


def gather_status(data_dir: DataDir, *, runs: int = 10) -> dict[str, Any]:
    with data_dir.connect() as db:
        return {
            "data_dir": str(data_dir.root),
            "running": None,
            "scope": (read_scope(data_dir) or ACCOUNT).describe(),
            "runs": [_run_view(run) for run in RunLog(db).recent(limit=runs)],
            "entities": _entities(db),
            "cursor": read_cursor(data_dir),
            "rejects": _rejects(db),
            "skipped": _skipped(db),
        }


UNKNOWN_RUN: dict[str, Any] = {
    "pid": None,
    "command": None,
    "started_at": None,
    "updated_at": None,
    "phase": None,
    "counters": [],
    "requests": None,
    "rejects": None,
}


def running_status(data_dir: DataDir) -> dict[str, Any]:
    """What can be told while another run holds the data dir, without opening DuckDB: the
    run's snapshot (its fields null when there is none: it just began), the scope and the
    cursor (files of their own); what the DuckDB file holds is null."""
    return {
        "data_dir": str(data_dir.root),
        "running": live_run(data_dir) or UNKNOWN_RUN,
        "scope": (read_scope(data_dir) or ACCOUNT).describe(),
        "runs": None,
        "entities": None,
        "cursor": read_cursor(data_dir),
        "rejects": None,
        "skipped": None,
    }


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    summary = run["summary"]
    push = summary.get("push", summary)  # sync nests the push; push is the push
    done = push.get("done") or {}
    extract = summary.get("extract", summary if "tables" in summary else {})
    return {
        "run_id": run["run_id"],
        "command": run["command"],
        "started_at": run["started_at"].isoformat(),
        "duration_seconds": run["duration_seconds"],
        "outcome": run["outcome"],
        "exit_code": run["exit_code"],
        "created": sum(ops.get("created", 0) for ops in done.values()),
        "updated": sum(ops.get("updated", 0) for ops in done.values()),
        "deleted": sum(ops.get("deleted", 0) for ops in done.values()),
        "rejected": len(summary.get("rejects", [])),
        "requests": {
            "metronome": (extract.get("requests") or {}).get("attempts", 0),
            "fincome": (push.get("requests") or {}).get("attempts", 0),
        },
        "error": run["error"],
    }


def _entities(db: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    plan = plan_push(db)
    desired = _counts(db, "fincome", "SELECT count(*) FROM fincome.{}")
    pushed = dict(
        db.execute("SELECT collection, count(*) FROM fincome_sync.ledger GROUP BY 1").fetchall()
        if _has_table(db, "fincome_sync", "ledger")
        else []
    )
    entities = {}
    for name, collection_plan in plan.collections.items():
        pending = {op: len(collection_plan.ids[op]) for op in OPS}
        pending["create"] = collection_plan.creates
        entities[name] = {
            "desired": desired.get(name, 0),
            "pushed": pushed.get(name, 0),
            "pending": pending,
            "stale": collection_plan.stale,
            "frozen": collection_plan.frozen,
        }
    return entities


def _counts(db: duckdb.DuckDBPyConnection, schema: str, query: str) -> dict[str, int]:
    tables = db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {name: db.execute(query.format(name)).fetchall()[0][0] for (name,) in tables}


def _has_table(db: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = db.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(found[0][0])


def read_cursor(data_dir: DataDir) -> dict[str, Any] | None:
    """A summary of the per-customer invoice cursors; None before the first extract."""
    state_file = data_dir.dlt_dir / EXTRACT_PIPELINE / "state.json"
    if not state_file.exists():
        return None
    state = orjson.loads(state_file.read_bytes())
    resources = state.get("sources", {}).get("metronome", {}).get("resources", {})
    cursors: dict[str, dict[str, Any]] = resources.get("invoices", {}).get("customers", {})
    latest = sorted(c["latest_period_start"] for c in cursors.values())
    drafts = [c["oldest_draft_start"] for c in cursors.values() if c.get("oldest_draft_start")]
    return {
        "customers": len(cursors),
        "latest_period_start": {"min": latest[0], "max": latest[-1]} if latest else None,
        "customers_with_open_drafts": len(drafts),
        "last_extract_at": _saved_at(state),
    }


def _saved_at(state: dict[str, Any]) -> str | None:
    """When the extract last ran (dlt keeps it type-tagged in its state file)."""
    stamp = custom_pua_decode(state.get("_local", {}).get("_last_extracted_at"))
    return stamp.isoformat() if isinstance(stamp, datetime) else None


def _skipped(db: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not _has_table(db, DEFAULT_SCHEMA, SKIPPED_TABLE):
        return {"total": 0, "by_reason": []}
    groups = db.execute(
        f"SELECT collection, reason, count(*) FROM {DEFAULT_SCHEMA}.{SKIPPED_TABLE} "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2"
    ).fetchall()
    return {
        "total": sum(count for _, _, count in groups),
        "by_reason": [
            {"collection": collection, "reason": reason, "count": count}
            for collection, reason, count in groups
        ],
    }


def _rejects(db: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    if not _has_table(db, "fincome_sync", "rejects"):
        return {"open": 0, "by_reason": [], "frozen": []}
    rows = db.execute(
        "SELECT stage, collection, reason, record_id FROM fincome_sync.rejects "
        "WHERE resolved_at IS NULL ORDER BY stage, collection, record_id"
    ).fetchall()
    grouped = Counter(row[:3] for row in rows)
    frozen = frozen_rejects(db)
    return {
        "open": len(rows),
        "by_reason": [
            {"stage": stage, "collection": collection, "reason": reason, "count": count}
            for (stage, collection, reason), count in grouped.most_common()
        ],
        "frozen": [
            {
                "stage": stage,
                "collection": collection,
                "record_id": record_id,
                "reason": reason,
                "frozen_since": held.since.isoformat(),
                "frozen_records": held.records,
            }
            for stage, collection, reason, record_id in rows
            if stage == "transform" and (held := frozen.get((collection, record_id)))
        ],
    }
