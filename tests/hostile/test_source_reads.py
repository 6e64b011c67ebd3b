"""A missing or malformed invoice list is an error of that request, never "no invoices".

A proxy in front of the Metronome emulator answers chosen invoice lists with a 404 or with
`{"data": null}`. Before, either was read as an empty list: the customer's cursor lost its
pin on an old DRAFT (so incremental runs never read it again once it finalized), and a
Metronome answering every list that way gave an extract that exited 0 having read nothing.
Now the request is retried; a customer whose list still fails is set aside for this run
(exit 3, its cursor untouched) and read again by the next run; many in a row stop the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest

from tests.fixtures.metronome import MetronomeEmulator
from tests.hostile.servers import Reply, Request, ScriptedServer, forward, json_reply
from tests.reliability.sync_runs import process_env, run_cli

Glitch = Callable[[Request], Reply | None]  # a reply for the requests it picks, else None
SMALL_RETRIES = {
    "SOURCES__METRONOME__MAX_ATTEMPTS": "3",
    "SOURCES__METRONOME__RETRY_BUDGET_SECONDS": "5",
    "SOURCES__METRONOME__TIMEOUT_SECONDS": "5",
}


class GlitchyMetronome:
    """The emulator behind a proxy whose `glitch` may answer instead of it."""

    def __init__(self, emulator: MetronomeEmulator) -> None:
        self.emulator = emulator
        self.glitch: Glitch = lambda request: None
        self.server = ScriptedServer(self._answer)

    def _answer(self, request: Request) -> Reply:
        return self.glitch(request) or forward(request, self.emulator.url)

    def extract(self, data_dir: Path) -> tuple[int, dict[str, Any], str]:
        env = process_env(
            {
                "SOURCES__METRONOME__BASE_URL": self.server.url,
                "SOURCES__METRONOME__API_TOKEN": self.emulator.token,
                "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
                **SMALL_RETRIES,
            }
        )
        done = run_cli(["extract", "--data-dir", str(data_dir), "--json"], env)
        return done.returncode, json.loads(done.stdout), done.stderr


@pytest.fixture
def metronome(metronome_api: MetronomeEmulator) -> Iterator[GlitchyMetronome]:
    proxy = GlitchyMetronome(metronome_api)
    with proxy.server:
        yield proxy


def _invoice_list_of(customer_id: str | None, reply: Reply, times: int | None = None) -> Glitch:
    """`reply` for the invoice list of `customer_id` (every customer's when None)."""
    left = [times]

    def glitch(request: Request) -> Reply | None:
        parts = request.path.strip("/").split("/")
        is_list = len(parts) == 4 and parts[:2] == ["v1", "customers"] and parts[3] == "invoices"
        if not is_list or customer_id not in (None, parts[2]) or left[0] == 0:
            return None
        if left[0] is not None:
            left[0] -= 1
        return reply

    return glitch


def _cursors(data_dir: Path) -> dict[str, Any]:
    pipeline = dlt.attach("metronome_extract", pipelines_dir=str(data_dir / "dlt"))
    resources = pipeline.state["sources"]["metronome"]["resources"]
    cursors: dict[str, Any] = resources["invoices"]["customers"]
    return cursors


def _pinned_customer(data_dir: Path) -> str:
    """A customer whose cursor pins an old DRAFT."""
    return next(cid for cid, cursor in _cursors(data_dir).items() if cursor["oldest_draft_start"])


NOT_FOUND = json_reply({"message": "Not Found"}, 404)
NULL_DATA = json_reply({"data": None, "next_page": None})


@pytest.mark.parametrize("reply", [NOT_FOUND, NULL_DATA], ids=["404", "data-null"])
def test_one_transient_bad_invoice_list_is_retried_and_keeps_the_draft_pin(
    metronome: GlitchyMetronome, tmp_path: Path, reply: Reply
) -> None:
    assert metronome.extract(tmp_path)[0] == 0
    customer_id = _pinned_customer(tmp_path)
    before = _cursors(tmp_path)[customer_id]
    metronome.glitch = _invoice_list_of(customer_id, reply, times=1)

    code, report, stderr = metronome.extract(tmp_path)

    assert code == 0, stderr
    assert report["rejects"] == []
    assert _cursors(tmp_path)[customer_id] == before


@pytest.mark.parametrize("reply", [NOT_FOUND, NULL_DATA], ids=["404", "data-null"])
def test_a_customer_whose_list_keeps_failing_is_set_aside_and_read_next_run(
    metronome: GlitchyMetronome, tmp_path: Path, reply: Reply
) -> None:
    assert metronome.extract(tmp_path)[0] == 0
    customer_id = _pinned_customer(tmp_path)
    before = _cursors(tmp_path)
    metronome.glitch = _invoice_list_of(customer_id, reply)

    code, report, _ = metronome.extract(tmp_path)

    assert code == 3
    [reject] = report["rejects"]
    assert (reject["collection"], reject["record_id"]) == ("unread_customers", customer_id)
    assert "invoices could not be read this run" in reject["reason"]
    assert _cursors(tmp_path) == before  # nothing about the failed customer moved
    metronome.glitch = lambda request: None
    code, report, _ = metronome.extract(tmp_path)
    assert (code, report["rejects"]) == (0, [])
    status = run_cli(["rejects", "--data-dir", str(tmp_path), "--json"], process_env({}))
    assert json.loads(status.stdout)["rejects"] == []  # read whole again: resolved


def test_every_invoice_list_null_fails_the_run_instead_of_reading_nothing(
    metronome: GlitchyMetronome, tmp_path: Path
) -> None:
    assert metronome.extract(tmp_path)[0] == 0
    before = _cursors(tmp_path)
    metronome.glitch = _invoice_list_of(None, NULL_DATA)

    code, report, stderr = metronome.extract(tmp_path)

    assert code == 1, stderr
    assert "customers' invoices could not be read" in report["error"]
    assert _cursors(tmp_path) == before
