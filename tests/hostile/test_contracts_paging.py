"""A hostile contract list: body cursors that loop, pages that repeat, 429s on the POST.

`POST /v2/contracts/list` pages by a cursor in its JSON body. Its pages go through the same
loop as every GET list (`sources/metronome/paging.py`), so a server that never lets the
listing end is stopped after a few requests, and the customer is set aside for the run
(exit 3, the others staged), never followed forever; a 429 on the POST is waited out as its
`Retry-After` asks when the budget allows, and fails the run naming the setting otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.fixtures.metronome import MetronomeEmulator
from tests.hostile.servers import Reply, Request, json_reply
from tests.integration.contracts_served import CONTRACTS_PATH, ContractsProxy, contract
from tests.reliability.sync_runs import process_env, run_cli

SMALL_RETRIES = {
    "SOURCES__METRONOME__MAX_ATTEMPTS": "3",
    "SOURCES__METRONOME__RETRY_BUDGET_SECONDS": "5",
    "SOURCES__METRONOME__TIMEOUT_SECONDS": "5",
}


@pytest.fixture
def proxy(metronome_api: MetronomeEmulator) -> Iterator[ContractsProxy]:
    ids = sorted(customer["id"] for customer in metronome_api.state()["customers"])
    served = ContractsProxy(metronome_api.url, {ids[0]: [contract(ids[0], 1)]})
    for n, customer_id in enumerate(ids[1:3], 2):
        served.contracts[customer_id] = [contract(customer_id, n)]
    with served.server:
        yield served


def extract(proxy: ContractsProxy, token: str, data_dir: Path) -> tuple[int, dict[str, Any], str]:
    env = process_env(
        {
            "SOURCES__METRONOME__BASE_URL": proxy.server.url,
            "SOURCES__METRONOME__API_TOKEN": token,
            "SOURCES__METRONOME__REQUESTS_PER_SECOND": "0",
            **SMALL_RETRIES,
        }
    )
    done = run_cli(["extract", "--data-dir", str(data_dir), "--json"], env)
    return done.returncode, json.loads(done.stdout), done.stderr


def staged_owners(data_dir: Path) -> set[str]:
    with duckdb.connect(str(data_dir / "billing_sync.duckdb")) as connection:
        rows = connection.execute("SELECT customer_id FROM metronome_raw.contracts").fetchall()
    return {row[0] for row in rows}


def contract_list_of(request: Request, customer_id: str) -> dict[str, Any] | None:
    """The body of `customer_id`'s contract list request, or None for any other request."""
    if request.method != "POST" or request.path != CONTRACTS_PATH:
        return None
    body = request.json()
    return body if isinstance(body, dict) and body.get("customer_id") == customer_id else None


def hostile_lists(proxy: ContractsProxy, customer_id: str, pages: str) -> None:
    """`customer_id`'s list never ends: `pages` is "looping" (the same cursor each time, new
    records) or "repeating" (the first page again, with a fresh cursor each time)."""
    calls = iter(range(1000))

    def glitch(request: Request) -> Reply | None:
        if contract_list_of(request, customer_id) is None:
            return None
        n = next(calls)
        if pages == "looping":
            records = [contract(customer_id, 50 + n)]
            return json_reply({"data": records, "cursor": "again"})
        return json_reply({"data": [contract(customer_id, 1)], "cursor": f"fresh-{n}"})

    proxy.glitch = glitch


@pytest.mark.parametrize(
    ("pages", "stalled"),
    [
        ("looping", "cursor 'again' was already followed"),
        ("repeating", "a page of 1 records all listed before"),
    ],
)
def test_a_contract_list_that_never_ends_sets_its_customer_aside_and_the_run_goes_on(
    proxy: ContractsProxy,
    metronome_api: MetronomeEmulator,
    tmp_path: Path,
    pages: str,
    stalled: str,
) -> None:
    hostile = sorted(proxy.contracts)[0]
    hostile_lists(proxy, hostile, pages)

    code, report, stderr = extract(proxy, metronome_api.token, tmp_path)

    assert code == 3, stderr
    assert [(r["collection"], r["record_id"]) for r in report["rejects"]] == [
        ("unread_customers", hostile)
    ]
    assert stalled in report["rejects"][0]["reason"]
    asked = [r for r in proxy.contract_requests() if contract_list_of(r, hostile)]
    assert len(asked) <= 3  # stopped at once, never retried in a loop
    assert staged_owners(tmp_path) >= set(proxy.contracts) - {hostile}


def test_a_429_on_the_contract_list_is_waited_out_as_retry_after_asks(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, tmp_path: Path
) -> None:
    throttled = sorted(proxy.contracts)[1]
    answers = iter([json_reply({"message": "slow down"}, 429, retry_after="1")])

    def glitch(request: Request) -> Reply | None:
        if contract_list_of(request, throttled) is None:
            return None
        return next(answers, None)

    proxy.glitch = glitch

    code, report, stderr = extract(proxy, metronome_api.token, tmp_path)

    assert code == 0, stderr
    assert report["requests"]["throttled"] == 1
    assert len([r for r in proxy.contract_requests() if contract_list_of(r, throttled)]) == 2
    assert staged_owners(tmp_path) == set(proxy.contracts)


def test_a_429_asking_beyond_the_budget_fails_the_run_naming_the_setting(
    proxy: ContractsProxy, metronome_api: MetronomeEmulator, tmp_path: Path
) -> None:
    def glitch(request: Request) -> Reply | None:
        if request.path != CONTRACTS_PATH:
            return None
        return json_reply({"message": "slow down"}, 429, retry_after="3600")

    proxy.glitch = glitch

    code, report, stderr = extract(proxy, metronome_api.token, tmp_path)

    assert code == 1, stderr
    assert "POST /v2/contracts/list" in report["error"]
    assert "SOURCES__METRONOME__RETRY_BUDGET_SECONDS" in report["error"]
