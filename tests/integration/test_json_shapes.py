"""The `--json` shapes that scripts and alerting read: keys and value types, pinned.

`status --json` is documented in `pipelines/commands/status.py`, `sync --dry-run --json` in
`pipelines/commands/push.py` (with the extract object of `extract.py`), `push-shared --json`
in `shared.py`, `check`, `repair` and `show invoice|customer` in `check.py`, `repair.py` and
`story.py`. A key added, renamed or retyped fails here: update the docstring, then this.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from destinations.fincome.schema import PUSH_ORDER
from pipelines.cli import app
from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator

runner = CliRunner()
COLLECTIONS = [spec.name for spec in PUSH_ORDER]
SHARED = ("customers", "products", "prices")
STAGED_TABLES = (
    "customers",
    "customer_plans",
    "contracts",
    "plans",
    "plan_charges",
    "credit_types",
    "invoices",
)


class MapOf:
    """A JSON object with free keys (currencies, statuses) and values of one shape."""

    def __init__(self, values: Any) -> None:
        self.values = values


class Nullable:
    """null, or a value of this shape."""

    def __init__(self, shape: Any) -> None:
        self.shape = shape


def conforms(value: Any, shape: Any, path: str = "$") -> list[str]:
    """Where `value` differs from `shape` (empty when it conforms); a tuple of scalar types
    (None among them for null) allows any of them."""
    if isinstance(shape, Nullable):
        return [] if value is None else conforms(value, shape.shape, path)
    if isinstance(shape, MapOf):
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object"]
        return [p for k, v in value.items() for p in conforms(v, shape.values, f"{path}.{k}")]
    if isinstance(shape, dict):
        if not isinstance(value, dict) or value.keys() != shape.keys():
            keys = sorted(value) if isinstance(value, dict) else value
            return [f"{path}: keys {keys} are not {sorted(shape)}"]
        return [p for k in shape for p in conforms(value[k], shape[k], f"{path}.{k}")]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [p for i, item in enumerate(value) for p in conforms(item, shape[0], f"{path}[{i}]")]
    allowed = shape if isinstance(shape, tuple) else (shape,)
    if value is None and None in allowed:
        return []
    types = tuple(t for t in allowed if t is not None)
    if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
        return []
    return [f"{path}: {value!r} is not {allowed}"]


def per_collection(shape: Any) -> dict[str, Any]:
    return dict.fromkeys(COLLECTIONS, shape)


HEAD = {"command": str, "status": str, "exit_code": int}
SCOPE = {"kind": str, "index": (int, None), "count": (int, None)}
REQUESTS = {"attempts": int, "retries": int, "throttled": int, "by_status": MapOf(int)}
REJECT = {"stage": str, "collection": str, "record_id": str, "reason": str}
RUN_REJECT = {**REJECT, "new": bool}  # a run's: new unless a finished run reported it
RUNNING = {"pid": (int, None), "command": (str, None), "started_at": (str, None),
           "updated_at": (str, None), "phase": (str, None),
           "counters": [{"name": str, "done": int, "total": int}],
           "requests": Nullable({"attempts": int, "by_status": MapOf(int)}),
           "rejects": (int, None)}  # fmt: skip
EXTRACT = {
    "tables": dict.fromkeys(STAGED_TABLES, int),
    "unchanged": dict.fromkeys(STAGED_TABLES, int),
    "rejects": [{"collection": str, "record_id": str, "reason": str}],
    "requests": REQUESTS,
    "duration_seconds": float,
    "load_ids": [str],
    "resumed_packages": int,
    "options": {"shard": (str, None), "full_refresh": bool, "backfill": Nullable({"start": str,
                "end": str}), "customers": Nullable([str])},
    "unknown_customers": [str],
}  # fmt: skip
MONEY = MapOf(str)  # currency -> exact decimal text
PUSH = {
    "dry_run": bool,
    "scope": SCOPE,
    "transformed": per_collection(int),
    "mapped": int,
    "plan": per_collection(
        {"create": int, "update": int, "delete": int, "embedded": int, "stale": int,
         "frozen": int, "money": {"create": MONEY, "update": MONEY, "delete": MONEY}}
    ),
    "done": MapOf({"created": int, "updated": int, "deleted": int}),
    "steps": MapOf(MapOf(int)),
    "rejects": [RUN_REJECT],
    "requests": MapOf((int, dict)),  # {} on a dry run, else REQUESTS
    "duration_seconds": float,
}  # fmt: skip
SYNC = {
    **HEAD,
    "data_dir": str,
    "scope": SCOPE,
    "extract": EXTRACT,
    "push": PUSH,
    "rejects": [RUN_REJECT],
    "shared_facts": (str, None),
    "duration_seconds": float,
}
STATUS = {
    **HEAD,
    "data_dir": str,
    "running": Nullable(RUNNING),
    "scope": SCOPE,
    "runs": [
        {"run_id": str, "command": str, "started_at": str, "duration_seconds": (float, None),
         "outcome": str, "exit_code": (int, None), "created": int, "updated": int,
         "deleted": int, "rejected": int, "requests": {"metronome": int, "fincome": int},
         "error": (str, None)}
    ],
    "entities": per_collection(
        {"desired": int, "pushed": int, "stale": int, "frozen": int,
         "pending": {"create": int, "update": int, "delete": int}}
    ),
    "cursor": Nullable({"customers": int, "customers_with_open_drafts": int,
                        "latest_period_start": Nullable({"min": str, "max": str}),
                        "last_extract_at": (str, None)}),
    "rejects": {"open": int,
                "by_reason": [{"stage": str, "collection": str, "reason": str, "count": int}],
                "frozen": [{**REJECT, "frozen_since": str, "frozen_records": int}]},
    "skipped": {"total": int,
                "by_reason": [{"collection": str, "reason": str, "count": int}]},
}  # fmt: skip
REJECTS = {
    **HEAD,
    "data_dir": str,
    "running": Nullable(RUNNING),
    "retried": [{"stage": str, "collection": str, "record_id": str, "outcome": str,
                 "created": int, "updated": int, "deleted": int, "reason": (str, None)}],
    "rejects": [{**REJECT, "attempts": int, "first_seen": str, "last_seen": str,
                 "detail": object, "frozen_since": (str, None), "frozen_records": int}],
}  # fmt: skip
CHECK = {
    **HEAD,
    "findings": [{"area": str, "name": str, "status": str, "detail": str, "fix": (str, None)}],
    "problems": int,
    "files": [{"role": str, "path": str, "read": bool}],
    "variables": [str],  # names only, never values
    "views": [str],
    "metrics": [str],
    "reconcile": [str],
    "data_dir": (str, None),
}
REPAIR = {
    **HEAD,
    "data_dir": str,
    "dry_run": bool,
    "resumed": int,
    "collections": per_collection(
        {"read": int, "missing": int, "differing": int, "extra": int, "repaired": int,
         "requests": int, "seconds": float}
    ),
    "findings": [{"collection": str, "id": str, "finding": str, "fields": [str]}],
    "pending": MapOf(int),
    "push": Nullable(PUSH),  # null on a dry run
    "requests": REQUESTS,
    "duration_seconds": float,
}  # fmt: skip
SHOW = {
    **HEAD,
    "data_dir": str,
    "kind": str,
    "id": str,
    "metronome": Nullable(dict),
    "records": [{"collection": str, "id": str, "desired": Nullable(dict),
                 "pushed_at": (str, None), "pushed_as_desired": (bool, None),
                 "fincome": (dict, str, None), "differs": [str]}],
    "owned": MapOf({"desired": int, "pushed": int, "as_desired": int}),
    "skipped": [{"collection": str, "record_id": str, "reason": str}],
    "rejects": [{**REJECT, "first_seen": str, "last_seen": str, "attempts": int}],
    "fincome_read": str,
    "requests": int,
    "mapped": bool,
}  # fmt: skip


@pytest.fixture(autouse=True)
def metronome(metronome_api: MetronomeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", metronome_api.url)
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", metronome_api.token)
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def test_sync_dry_run_and_status_have_their_documented_shapes(tmp_path: Path) -> None:
    code, sync = cli("sync", "--dry-run", "--data-dir", str(tmp_path))
    assert code == 3  # the pinned account's custom pricing unit
    assert conforms(sync, SYNC) == []
    assert sync["scope"] == {"kind": "account", "index": None, "count": None}
    assert sync["push"]["done"] == {}
    assert sync["push"]["requests"] == {}
    assert sync["shared_facts"] is None

    code, status = cli("status", "--data-dir", str(tmp_path))
    assert code == 0
    assert conforms(status, STATUS) == []
    assert status["runs"][0]["command"] == "sync"
    assert status["cursor"] is not None
    assert status["rejects"]["by_reason"]

    code, rejects = cli("rejects", "--data-dir", str(tmp_path))
    assert code == 3
    assert conforms(rejects, REJECTS) == []
    assert rejects["retried"] == []


def test_a_shards_dry_run_and_status_keep_the_shapes_and_say_their_scope(tmp_path: Path) -> None:
    code, sync = cli("sync", "--dry-run", "--shard", "1/3", "--data-dir", str(tmp_path))
    assert code in (0, 3)
    assert conforms(sync, SYNC) == []
    assert sync["scope"] == {"kind": "shard", "index": 1, "count": 3}
    assert sync["extract"]["options"]["shard"] == "1/3"
    assert sync["push"]["scope"] == sync["scope"]
    assert all(sync["push"]["transformed"][name] == 0 for name in SHARED)
    assert Path(sync["shared_facts"]).is_file()

    code, status = cli("status", "--data-dir", str(tmp_path))
    assert conforms(status, STATUS) == []
    assert status["scope"] == sync["scope"]


def test_push_shared_prints_the_push_object_with_its_facts(tmp_path: Path) -> None:
    shard = tmp_path / "shard"
    code, extract = cli("extract", "--shard", "0/1", "--data-dir", str(shard))
    assert code == 0
    assert conforms(extract["scope"], SCOPE) == []
    code, shared = cli("push-shared", "--dry-run", "--facts", str(shard), "--data-dir",
                       str(tmp_path / "shared"))  # fmt: skip
    assert code == 0
    assert conforms(shared, {**HEAD, "data_dir": str, **PUSH, "facts": [str]}) == []
    assert shared["scope"] == {"kind": "shared", "index": None, "count": None}
    assert shared["facts"] == [extract["shared_facts"]]
    assert all(shared["transformed"][name] for name in SHARED)


def test_a_sharded_sync_that_would_push_is_refused_before_touching_the_data_dir(
    tmp_path: Path,
) -> None:
    code, refused = cli("sync", "--shard", "1/3", "--data-dir", str(tmp_path))
    assert code == 2
    assert refused["status"] == "misconfigured"
    assert refused["key"] == "--shard"
    assert "push-shared" in refused["error"]
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_shard_out_of_range_is_a_usage_error() -> None:
    result = runner.invoke(app, ["extract", "--shard", "3/3", "--json"])
    assert result.exit_code == 2
    assert "from 0 to N-1" in result.output


def test_check_repair_and_show_have_their_documented_shapes(
    fincome_api: FincomeEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DESTINATION__FINCOME__BASE_URL", fincome_api.url)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", fincome_api.api_key)
    monkeypatch.setenv("DESTINATION__FINCOME__REQUESTS_PER_SECOND", "0")
    code, check = cli("check", "--data-dir", str(tmp_path))
    assert code == 0
    assert conforms(check, CHECK) == []
    assert check["problems"] == 0
    assert conforms(cli("sync", "--data-dir", str(tmp_path))[1], SYNC) == []

    code, dry = cli("repair", "--dry-run", "--data-dir", str(tmp_path))
    assert code == 0
    assert conforms(dry, REPAIR) == []
    assert dry["push"] is None
    code, repair = cli("repair", "--data-dir", str(tmp_path))
    assert code == 0
    assert conforms(repair, REPAIR) == []
    assert repair["push"] is not None

    invoice_id = _a_pushed_invoice(tmp_path)
    code, invoice = cli("show", "invoice", invoice_id, "--data-dir", str(tmp_path))
    assert code == 0
    assert conforms(invoice, SHOW) == []
    assert invoice["records"][0]["collection"] == "invoices"
    customer_id = invoice["records"][0]["desired"]["customer_id"]
    code, customer = cli("show", "customer", customer_id, "--data-dir", str(tmp_path))
    assert code == 0
    assert conforms(customer, SHOW) == []
    assert customer["owned"]


def _a_pushed_invoice(data_dir: Path) -> str:
    """An invoice id from the ledger (no command holds the data dir between these calls)."""
    with duckdb.connect(str(data_dir / "billing_sync.duckdb"), read_only=True) as db:
        row = db.execute(
            "SELECT min(id) FROM fincome_sync.ledger WHERE collection = 'invoices'"
        ).fetchone()
    assert row is not None
    assert row[0] is not None
    return str(row[0])
