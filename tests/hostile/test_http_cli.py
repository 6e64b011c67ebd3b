"""The real `billing-sync extract` against a Metronome that answers every request 429 with
`Retry-After: 3600`: the run fails at once with a reason, instead of holding the data-dir
lock for an hour (every later cron tick would exit 75 meanwhile)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.hostile.servers import ScriptedServer, json_reply
from tests.reliability.sync_runs import BILLING_SYNC, process_env

HANG_LIMIT = 60  # seconds; a run honouring its 5 s budget ends far sooner


def test_extract_fails_at_once_when_metronome_asks_to_wait_an_hour(tmp_path: Path) -> None:
    throttled = json_reply({"message": "rate limited"}, 429, retry_after="3600")
    with ScriptedServer(lambda request: throttled) as server:
        env = process_env(
            {
                "SOURCES__METRONOME__BASE_URL": server.url,
                "SOURCES__METRONOME__API_TOKEN": "tok-cli-hostile-0123456789",
                "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
                "SOURCES__METRONOME__TIMEOUT_SECONDS": "2",
                "SOURCES__METRONOME__RETRY_BUDGET_SECONDS": "5",
            }
        )
        try:
            done = subprocess.run(
                [BILLING_SYNC, "extract", "--data-dir", str(tmp_path / "data")],
                env=env,
                capture_output=True,
                text=True,
                timeout=HANG_LIMIT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"billing-sync extract still running after {HANG_LIMIT} s: a hang")
    assert done.returncode == 1, done.stderr
    assert "Metronome asked to wait 3,600 s (Retry-After)" in done.stderr
    assert "SOURCES__METRONOME__RETRY_BUDGET_SECONDS" in done.stderr
    assert len(server.requests) <= 4  # one per request the run had started, none retried
