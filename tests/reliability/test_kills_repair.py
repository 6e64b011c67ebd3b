"""`kill -9` (or SIGTERM) in the middle of a repair's read-back, then a repair again: it
resumes and converges.

A lost data dir against a populated Fincome holding a line the new bodies lack: the real
`billing-sync repair` (a process, paced so the kill lands while invoices are read back) is
killed once customers, products, prices and subscriptions are checked. The next repair must
start after them (`resumed`), read only what was not checked (plus the batch the kill cut),
and leave Fincome exactly the desired state, the extra line gone.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import duckdb
import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.integration.bodies import canonical, desired
from tests.integration.hand_edits import Emulator, a_line_more, an_invoice_with_lines, cli
from tests.reliability.sync_runs import pair_env, process_env, start_cli

pytest_plugins = ["tests.fixtures.other_fincome", "tests.integration.hand_edits"]
BEFORE_INVOICES = ("customers", "products", "prices", "subscriptions")
PACE = "40"  # requests per second: invoices take seconds to read back, the kill lands among them
DEADLINE_SECONDS = 120


@pytest.mark.parametrize("stopped", [(signal.SIGKILL, -9), (signal.SIGTERM, 143)])
def test_a_repair_killed_while_reading_back_resumes_and_converges(
    stopped: tuple[signal.Signals, int],
    fincome_api: FincomeEmulator,
    metronome_api: MetronomeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env = pair_env(
        metronome_url=metronome_api.url,
        token=metronome_api.token,
        fincome_url=fincome_api.url,
        key=fincome_api.api_key,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    first, lost = tmp_path / "first", tmp_path / "lost"
    assert cli("sync", "--data-dir", str(first))[0] in (0, 3)
    invoice_id, (kept, *_) = an_invoice_with_lines(first, 1)
    fincome = Emulator(fincome_api)
    fincome.add(
        "invoice_line_items", a_line_more(invoice_id, fincome.held()["invoice_line_items"][kept])
    )
    assert cli("extract", "--data-dir", str(lost))[0] in (0, 3)
    records = {name: len(rows) for name, rows in desired(first).items()}
    checked_first = sum(records[name] for name in BEFORE_INVOICES)

    reads = fincome.reads()
    paced = {**env, "DESTINATION__FINCOME__REQUESTS_PER_SECOND": PACE}
    process = start_cli(["repair", "--data-dir", str(lost), "--json"], process_env(paced))
    deadline = time.monotonic() + DEADLINE_SECONDS
    while fincome.reads() - reads < checked_first + 5 and process.poll() is None:
        assert time.monotonic() < deadline, "the repair never reached the invoices"
        time.sleep(0.01)
    stop, exit_code = stopped
    process.send_signal(stop)
    process.wait()
    assert process.returncode == exit_code  # stopped (143: it said so and exited), not finished
    killed_reads = fincome.reads() - reads
    with duckdb.connect(str(lost / "billing_sync.duckdb"), read_only=True) as db:
        [(checked,)] = db.execute("SELECT count(*) FROM fincome_sync.repair_checked").fetchall()
    assert checked >= checked_first

    reads = fincome.reads()
    code, report = cli("repair", "--data-dir", str(lost))

    assert code in (0, 3)
    assert report["resumed"] == checked
    assert canonical(fincome.held()) == desired(lost)  # the extra line is gone
    assert report["collections"]["invoice_line_items"]["extra"] == 1
    documents = records["invoices"] + records["credit_notes"]
    assert fincome.reads() - reads <= documents  # what was checked is not read again
    assert killed_reads + fincome.reads() - reads < checked_first + 2 * documents
