"""The accounts a data dir belongs to (`pipelines/preflight/binding.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.preflight.binding import (
    Account,
    Judgement,
    fingerprint,
    judge,
    read_bindings,
    write_bindings,
)

ACCOUNT = Account("fincome", "https://api2.fincome.co/product", "key-one")
ROTATED = Account("fincome", ACCOUNT.base_url, "key-two")
MOVED = Account("fincome", "https://fincome.example/product", "key-one")
WITNESSES = [("customers", "cus_1"), ("customers", "cus_2")]


def test_the_fingerprint_is_not_the_key_and_depends_on_the_salt() -> None:
    one, other = fingerprint("key-one", "00" * 8), fingerprint("key-one", "01" * 8)
    assert "key-one" not in one
    assert one != other
    assert len(one) == 16
    assert fingerprint("key-one", "00" * 8) == one


@pytest.mark.parametrize(
    ("account", "witnesses", "held", "expected"),
    [
        (ACCOUNT, WITNESSES, {}, Judgement.BOUND),  # no read needed
        (ROTATED, WITNESSES, {"cus_2": True, "cus_1": False}, Judgement.RECOGNISED),
        (MOVED, WITNESSES, {"cus_1": True, "cus_2": True}, Judgement.RECOGNISED),
        (ROTATED, WITNESSES, {"cus_1": False, "cus_2": False}, Judgement.OTHER),
        (ROTATED, WITNESSES, {"cus_1": False, "cus_2": None}, Judgement.UNDECIDED),
        (ROTATED, [], {}, Judgement.UNTIED),
    ],
)
def test_judge_a_recorded_binding(
    account: Account,
    witnesses: list[tuple[str, str]],
    held: dict[str, bool | None],
    expected: Judgement,
) -> None:
    asked: list[str] = []

    def read(witness: tuple[str, str]) -> bool | None:
        asked.append(witness[1])
        return held[witness[1]]

    verdict = judge(ACCOUNT.recorded(), account, witnesses, read)
    assert verdict.judgement is expected, verdict.detail
    assert set(asked) == set(held)
    assert "key-" not in verdict.detail


@pytest.mark.parametrize(
    ("witnesses", "held", "expected"),
    [
        ([], {}, Judgement.NEW),
        # a data dir from before bindings: its records tell the account
        (WITNESSES, {"cus_1": True, "cus_2": False}, Judgement.RECOGNISED),
        (WITNESSES, {"cus_1": False, "cus_2": False}, Judgement.OTHER),
    ],
)
def test_judge_an_unbound_data_dir(
    witnesses: list[tuple[str, str]], held: dict[str, bool], expected: Judgement
) -> None:
    verdict = judge(None, ACCOUNT, witnesses, lambda witness: held[witness[1]])
    assert verdict.judgement is expected


def test_bindings_round_trip_without_the_key(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    assert read_bindings(path) == {}
    recorded = {"fincome": ACCOUNT.recorded(), "metronome": MOVED.recorded()}
    write_bindings(path, recorded)
    assert read_bindings(path) == recorded
    assert "key-one" not in path.read_text()
    assert read_bindings(path)["fincome"].matches(ACCOUNT)
    assert not read_bindings(path)["fincome"].matches(ROTATED)
