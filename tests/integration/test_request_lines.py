"""`billing-sync -v` logs one line per HTTP attempt of both APIs (method, path, status, ms),
as JSON fields with `--log-format json`, and never a credential."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.reliability.sync_runs import pair_env, process_env, run_cli


def test_verbose_sync_logs_each_request_of_both_apis_without_credentials(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    env = process_env(
        pair_env(
            metronome_url=metronome_api.url,
            token=metronome_api.token,
            fincome_url=fincome_api.url,
            key=fincome_api.api_key,
        )
    )
    args = ["-v", "--log-format", "json", "sync", "--data-dir", str(tmp_path)]

    result = run_cli(args, env)

    assert result.returncode == 3  # the pinned account's custom pricing unit
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "httpkit.requests"]
    seen = {(r["method"], r["path"].split("/")[1], r["http_status"]) for r in requests}
    assert ("GET", "v1", "200") in seen  # Metronome
    assert ("POST", "customers", "201") in seen  # Fincome
    assert all(isinstance(r["ms"], int) and r["ms"] >= 0 for r in requests)
    assert all(r["message"].startswith(f"{r['method']} {r['path']} -> ") for r in requests)
    for credential in (metronome_api.token, fincome_api.api_key):
        assert credential not in result.stderr
        assert credential not in result.stdout
