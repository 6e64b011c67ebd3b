"""A real extract with fuzzed junk invoices among the emulator's own, then the transform.

The Metronome emulator serves its pinned account plus a batch of junk invoices injected for
three customers, byte for byte. `billing-sync extract` (in process) must go on and exit 3:
every generated invoice staged, every junk invoice either staged or in
`fincome_sync.rejects` with its reason, and a second run the same. The transform over that
staging must not fail on anything: every staged invoice is mapped, rejected with a complete
reject (which the ledger can store) or a documented skip.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from destinations.fincome.ledger import LedgerStore
from pipelines.cli import app
from pipelines.rejects import store_transform_rejects
from pipelines.staging import iter_customer_bundles, read_catalog
from pipelines.transform.options import MappingOptions
from pipelines.transform.runner import run_transform
from sources.metronome.client import parse_json
from sources.metronome.records import ExtractReject, record_key, split_valid
from sources.metronome.stageable import is_unicode
from tests.fixtures.metronome import PINNED_ACCOUNT, PINNED_NOW, MetronomeEmulator
from tests.reliability.checks import (
    assert_rejects_are_complete,
    reason_problem,
    unaccounted_invoices,
)
from tests.reliability.conftest import ReliabilityFigures
from tests.reliability.source_records import junk_invoices
from tests.reliability.strategies import Account, fuzz_settings

JUNK_PER_RUN = 24
OWNER = "<customer id>"
NEIGHBOUR = "<another customer's id>"  # an invoice listed under one customer naming another
runner = CliRunner()


@pytest.fixture
def configured(metronome_api: MetronomeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", metronome_api.url)
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", metronome_api.token)
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")


@st.composite
def junk_batches(draw: st.DrawFn) -> list[tuple[int, dict[str, Any]]]:
    """(customer index 0..2, junk invoice) pairs; `OWNER` stands for the customer's id."""
    owners = [draw(st.integers(0, 2)) for _ in range(JUNK_PER_RUN)]
    names = [OWNER] * 6 + [NEIGHBOUR, "no-such-customer"]
    named = [draw(st.sampled_from(names)) for _ in owners]
    return [(owner, draw(junk_invoices(named[n], n))) for n, owner in enumerate(owners)]


@settings(
    fuzz_settings(max_examples=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=junk_batches())
@pytest.mark.usefixtures("configured")
def test_junk_invoices_are_set_aside_and_everything_else_lands_and_maps(
    batch: list[tuple[int, dict[str, Any]]],
    metronome_api: MetronomeEmulator,
    reliability_figures: ReliabilityFigures,
) -> None:
    metronome_api.reset(**PINNED_ACCOUNT)  # hypothesis runs every example on one fixture
    generated = set(metronome_api.served_invoices())
    owners = [customer["id"] for customer in metronome_api.customers()[:3]]
    served = [_inject(metronome_api, owners, owner, junk) for owner, junk in batch]
    reliability_figures.add("records_fuzzed", len(served))
    expected: list[ExtractReject] = []
    for owner, invoice in zip(batch, served, strict=True):
        split_valid("invoices", [invoice], expected.append, listed_under=owners[owner[0]])
    expected_rejects = {reject.record_id: reject.reason for reject in expected}
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        for _ in range(2):  # the second run meets the same junk: it must not be stuck
            code, report = _extract(data_dir)
            assert code == (3 if expected_rejects else 0), report
        with duckdb.connect(str(data_dir / "billing_sync.duckdb")) as db:
            staged = {
                row[0] for row in db.execute("SELECT id FROM metronome_raw.invoices").fetchall()
            }
            assert generated <= staged
            assert _open_rejects(db) == expected_rejects
            assert all(reason_problem(reason) is None for reason in expected_rejects.values())
            accepted = {i["id"] for i in served if record_key(i) not in expected_rejects}
            assert accepted <= staged
            _assert_transform_goes_on(db, data_dir)


def _inject(
    api: MetronomeEmulator, owners: list[str], owner: int, invoice: dict[str, Any]
) -> dict[str, Any]:
    """Serve the invoice as raw JSON under `owners[owner]`; what the client parses from it
    comes back."""
    names = {OWNER: owners[owner], NEIGHBOUR: owners[(owner + 1) % len(owners)]}
    named = invoice.get("customer_id")
    if isinstance(named, str) and named in names:  # junk may make it a list or an object
        invoice = {**invoice, "customer_id": names[named]}
    raw = _json_bytes(_storable_by_the_emulator(invoice))
    api.inject(raw, owners[owner])
    parsed: dict[str, Any] = parse_json(raw)
    return parsed


def _storable_by_the_emulator(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice without the two values the emulator itself fails on (a 500 on inject):
    an id with a lone surrogate (its answer echoes the id), and a date beyond the calendar
    in UTC among those it indexes. `test_fuzz_source.py` covers both against the source."""
    fixed = dict(invoice)
    if isinstance(fixed.get("id"), str) and not is_unicode(fixed["id"]):
        fixed["id"] = fixed["id"].encode("utf-8", "replace").decode()
    for field in ("issued_at", "start_timestamp", "end_timestamp"):
        if isinstance(fixed.get(field), str) and _beyond_the_calendar(fixed[field]):
            fixed[field] = "2024-01-01T00:00:00Z"
    return fixed


def _beyond_the_calendar(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip()).astimezone(UTC)
    except OverflowError:
        return True
    except ValueError:
        return False
    return False


def _extract(data_dir: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["extract", "--data-dir", str(data_dir), "--json"])
    assert "Traceback" not in result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, report


def _open_rejects(db: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = db.execute(
        "SELECT record_id, reason FROM fincome_sync.rejects "
        "WHERE stage = 'extract' AND collection = 'invoices' AND resolved_at IS NULL"
    ).fetchall()
    return dict(rows)


def _assert_transform_goes_on(db: duckdb.DuckDBPyConnection, spool: Path) -> None:
    """The transform runner rewrites the `fincome` tables; every staged invoice is accounted
    for (one staged under no customer would never be mapped nor rejected)."""
    result = run_transform(db, MappingOptions(), PINNED_NOW, spool_dir=spool)
    assert_rejects_are_complete(result.rejects)
    store_transform_rejects(LedgerStore(db), result.rejects)  # every one can be stored
    account = Account(read_catalog(db), list(iter_customer_bundles(db)), MappingOptions())
    in_bundles = {raw["id"] for bundle in account.customers for raw in bundle.invoices}
    staged = {row[0] for row in db.execute("SELECT id FROM metronome_raw.invoices").fetchall()}
    assert staged == in_bundles
    mapped = {
        row[0]
        for table in ("invoices", "credit_notes")
        for row in db.execute(f"SELECT id FROM fincome.{table}").fetchall()
    }
    assert unaccounted_invoices(account, mapped, result.rejects) == []


def _json_bytes(value: Any) -> bytes:
    """JSON as a foreign server may write it: exact numbers, NaN, lone surrogates escaped
    (orjson refuses those, and integers beyond 64 bits)."""
    if isinstance(value, dict):
        items = (f"{json.dumps(k)}: {_json_bytes(v).decode()}" for k, v in value.items())
        return ("{" + ", ".join(items) + "}").encode()
    if isinstance(value, list):
        return ("[" + ", ".join(_json_bytes(item).decode() for item in value) + "]").encode()
    if isinstance(value, Decimal):
        return str(value).encode()  # NaN and Infinity as Python's json module reads them
    return json.dumps(value).encode()
