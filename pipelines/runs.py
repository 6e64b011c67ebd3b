"""Run history in `fincome_sync.runs`: one row per command run, for `status` and alerting.

A run is written as `running` when it starts and completed when it ends. A process killed
in between leaves its row `running`; `recent_runs` reports it as `interrupted` once no process
holds the data-dir lock any more (the caller says whether it does).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson

from pipelines.logs import mask_secrets, redact

SCHEMA = "fincome_sync"

OUTCOMES = {
    0: "ok",
    1: "failed",
    2: "misconfigured",
    3: "rejects",
    75: "locked",
    130: "stopped",
    143: "stopped",
}


def _ddl(schema: str) -> str:
    return f"""
    CREATE SCHEMA IF NOT EXISTS {schema};
    CREATE TABLE IF NOT EXISTS {schema}.runs (
        run_id VARCHAR PRIMARY KEY,
        command VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        outcome VARCHAR NOT NULL,
        exit_code INTEGER,
        options JSON,
        summary JSON,
        error VARCHAR
    );
    """


class RunLog:
    def __init__(self, db: duckdb.DuckDBPyConnection, *, schema: str = SCHEMA) -> None:
        self.db = db
        self.schema = schema
        db.execute(_ddl(schema))

    def start(self, command: str, options: Mapping[str, Any]) -> str:
        """Record a run that begins now; `options` must hold no secret."""
        run_id = uuid.uuid4().hex[:12]
        self.db.execute(
            f"INSERT INTO {self.schema}.runs (run_id, command, started_at, outcome, options) "
            "VALUES (?, ?, ?, 'running', ?)",
            [run_id, command, datetime.now(UTC), mask_secrets(_json(options))],
        )
        return run_id

    def finish(
        self,
        run_id: str,
        *,
        exit_code: int,
        summary: Mapping[str, Any],
        error: str | None = None,
    ) -> None:
        """Record how the run ended; what it stores is redacted like a log line (`status`
        prints it for as long as the history keeps it)."""
        self.db.execute(
            f"UPDATE {self.schema}.runs SET finished_at = ?, outcome = ?, exit_code = ?, "
            "summary = ?, error = ? WHERE run_id = ?",
            [
                datetime.now(UTC),
                OUTCOMES.get(exit_code, "failed"),
                exit_code,
                mask_secrets(_json(summary)),
                None if error is None else redact(error),
                run_id,
            ],
        )

    def recent(self, *, limit: int = 10, someone_running: bool = False) -> list[dict[str, Any]]:
        """The newest runs first; `running` rows become `interrupted` unless a run is live."""
        cursor = self.db.execute(
            f"SELECT run_id, command, started_at, finished_at, outcome, exit_code, options, "
            f"summary, error FROM {self.schema}.runs ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
        columns = [d[0] for d in cursor.description]
        runs = []
        for index, row in enumerate(cursor.fetchall()):
            run = dict(zip(columns, row, strict=True))
            run["options"] = orjson.loads(run["options"]) if run["options"] else {}
            run["summary"] = orjson.loads(run["summary"]) if run["summary"] else {}
            if run["outcome"] == "running" and not (someone_running and index == 0):
                run["outcome"] = "interrupted"
            end = run["finished_at"]
            run["duration_seconds"] = (
                round((end - run["started_at"]).total_seconds(), 3) if end else None
            )
            runs.append(run)
        return runs


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
