"""Fincome refusing every write alike is a configuration fault (exit 2), not rejects (exit 3).

A wrong base path, or a proxy that answers 400, 404 or 405 to every write, used to set
every record aside and exit 3, which the DAG only warns on, leaving hundreds of rejects that
say nothing about their records. Now the run exits 2 naming DESTINATION__FINCOME__BASE_URL
(or the collection's path), stops early, and sets nothing aside; a real refusal of some
records still exits 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.fincome import FincomeEmulator
from tests.fixtures.metronome import MetronomeEmulator
from tests.hostile.servers import Reply, Request, ScriptedServer, forward, json_reply
from tests.reliability.sync_runs import pair_env, process_env, run_cli

WRITES = ("POST", "PATCH", "DELETE")
BASE_URL = "DESTINATION__FINCOME__BASE_URL"


def _refusing(status: int, fincome: FincomeEmulator) -> ScriptedServer:
    def script(request: Request) -> Reply:
        if request.method in WRITES:
            return json_reply({"detail": "Nope"}, status)
        return forward(request, fincome.url)

    return ScriptedServer(script)


def _sync(
    metronome: MetronomeEmulator, fincome_url: str, key: str, data_dir: Path
) -> tuple[int, dict[str, object], str]:
    pair = pair_env(
        metronome_url=metronome.url, token=metronome.token, fincome_url=fincome_url, key=key
    )
    env = process_env(pair)
    done = run_cli(["sync", "--data-dir", str(data_dir), "--json"], env)
    return done.returncode, json.loads(done.stdout), done.stderr


def _open_rejects(data_dir: Path) -> list[dict[str, object]]:
    done = run_cli(["rejects", "--data-dir", str(data_dir), "--json"], process_env({}))
    rejects: list[dict[str, object]] = json.loads(done.stdout)["rejects"]
    return rejects


@pytest.fixture
def pushed_whole(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> int:
    """How many writes a good sync of the pinned account sends; Fincome emptied after."""
    code, report, stderr = _sync(metronome_api, fincome_api.url, fincome_api.api_key, tmp_path)
    assert code in (0, 3), stderr
    fincome_api.reset()
    push = report["push"]
    assert isinstance(push, dict)
    return int(push["requests"]["attempts"])


@pytest.mark.parametrize("status", [400, 404, 405])
def test_every_write_refused_alike_exits_2_naming_the_base_url_and_sets_nothing_aside(
    metronome_api: MetronomeEmulator,
    fincome_api: FincomeEmulator,
    tmp_path: Path,
    pushed_whole: int,
    status: int,
) -> None:
    data_dir = tmp_path / "data"
    with _refusing(status, fincome_api) as proxy:
        code, report, stderr = _sync(metronome_api, proxy.url, fincome_api.api_key, data_dir)
        writes = len(proxy.seen("POST")) + len(proxy.seen("PATCH"))

    assert code == 2, stderr
    assert report["key"] in (BASE_URL, "DESTINATION__FINCOME__PATHS__CUSTOMERS")
    assert writes < pushed_whole / 2  # it stopped early
    assert [r for r in _open_rejects(data_dir) if r["stage"] == "push"] == []


def test_a_wrong_base_path_exits_2_naming_the_path(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    code, report, stderr = _sync(
        metronome_api, fincome_api.url + "/wrong/prefix", fincome_api.api_key, tmp_path
    )

    assert code == 2, stderr
    assert report["key"] in (BASE_URL, "DESTINATION__FINCOME__PATHS__CUSTOMERS")
    assert [r for r in _open_rejects(tmp_path) if r["stage"] == "push"] == []


def test_some_records_refused_still_exit_3(
    metronome_api: MetronomeEmulator, fincome_api: FincomeEmulator, tmp_path: Path
) -> None:
    refused = 0

    def script(request: Request) -> Reply:
        nonlocal refused
        if request.method == "POST" and request.path == "/customers" and refused < 2:
            refused += 1
            return json_reply({"detail": "Bad request"}, 400)
        return forward(request, fincome_api.url)

    with ScriptedServer(script) as proxy:
        code, _, stderr = _sync(metronome_api, proxy.url, fincome_api.api_key, tmp_path)

    assert code == 3, stderr
    assert len([r for r in _open_rejects(tmp_path) if r["stage"] == "push"]) >= 2
