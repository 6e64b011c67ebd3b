"""Which Metronome and Fincome accounts a data dir belongs to: `<data dir>/accounts.json`.

A data dir's ledger says what one Fincome account holds and its staging what one Metronome
account sent. Pointed at another account, a run trusted the ledger and sent nothing (exit 0).
So the first run records each API's account, and later runs compare:

    {"fincome": {"base_url": "https://...", "salt": "9f..", "fingerprint": "3a..",
                 "bound_at": "2026-12-07T18:00:00Z"}, "metronome": {...}}

- The fingerprint is PBKDF2-SHA256 of the credential (`ROUNDS` rounds, a random salt of
  the file's own, 8 bytes kept): it tells whether a later credential is the same one, and
  cannot be turned back into it, nor cheaply tried against a list of guesses. Neither API
  names its account (no "who am I" read), so this is what can be kept without the secret.
- Same base URL and fingerprint: bound, without a request.
- Otherwise the account is recognised by what the data dir knows it holds (witnesses): up
  to `WITNESSES` records of the ledger for Fincome (customers first: they are never deleted)
  and staged customers for Metronome, each read by id. One found: the same account (a
  rotated key, a new address for the same API): the binding follows, said in one line. None
  found: another account, exit 2 naming how to rebind. A data dir that holds nothing from
  that API yet binds to whatever it meets.
- `billing-sync check --rebind` records the accounts in use whatever the data dir holds
  (then `billing-sync repair` brings the new account up to the ledger).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

ROUNDS = 100_000
WITNESSES = 3
REBIND = "billing-sync check --rebind"


@dataclass(frozen=True)
class Account:
    """The account a run is configured for: an API's base URL and its credential."""

    api: str  # "metronome" | "fincome"
    base_url: str
    secret: str

    def recorded(self, salt: str | None = None) -> Recorded:
        salt = salt or secrets.token_hex(8)
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return Recorded(self.base_url, salt, fingerprint(self.secret, salt), now)


@dataclass(frozen=True)
class Recorded:
    base_url: str
    salt: str
    fingerprint: str
    bound_at: str

    def matches(self, account: Account) -> bool:
        return self.base_url == account.base_url and self.fingerprint == fingerprint(
            account.secret, self.salt
        )

    def describe(self) -> str:
        return f"{self.base_url} (credential {self.fingerprint[:8]}, since {self.bound_at})"


def fingerprint(secret: str, salt: str) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), bytes.fromhex(salt), ROUNDS)
    return digest[:8].hex()


class Judgement(StrEnum):
    BOUND = "bound"  # the recorded account
    NEW = "new"  # nothing recorded, nothing held: binds
    RECOGNISED = "recognised"  # another key or address, a witness found: the binding follows
    UNTIED = "untied"  # another key or address, nothing held that could tell: binds
    OTHER = "other account"  # no witness there: exit 2
    UNDECIDED = "undecided"  # a witness could not be read


@dataclass(frozen=True)
class Verdict:
    judgement: Judgement
    detail: str

    @property
    def rebinds(self) -> bool:
        """The binding should be (re)written to the account in use."""
        return self.judgement in (Judgement.NEW, Judgement.RECOGNISED, Judgement.UNTIED)


# a witness -> True (held), False (404) or None (could not tell), and a label for messages
WitnessRead = Callable[[tuple[str, str]], bool | None]


def judge(
    recorded: Recorded | None,
    account: Account,
    witnesses: list[tuple[str, str]],
    read: WitnessRead,
) -> Verdict:
    """Whether `account` is the one the data dir belongs to (see the module docstring)."""
    if recorded is not None and recorded.matches(account):
        return Verdict(Judgement.BOUND, f"bound to {recorded.describe()}")
    if not witnesses:
        if recorded is None:
            return Verdict(
                Judgement.NEW, f"not bound yet: the next run binds it to {account.base_url}"
            )
        return Verdict(Judgement.UNTIED, f"was {recorded.describe()}; holds nothing from it yet")
    answers = [(witness, read(witness)) for witness in witnesses]
    named = ", ".join(f"{collection} {record_id}" for collection, record_id in witnesses)
    if found := [witness for witness, held in answers if held]:
        collection, record_id = found[0]
        was = recorded.describe() if recorded else "not recorded"
        return Verdict(
            Judgement.RECOGNISED,
            f"recognised by {collection} {record_id}, which it holds (was {was})",
        )
    if any(held is None for _, held in answers):
        return Verdict(Judgement.UNDECIDED, f"could not read {named} to recognise the account")
    was = recorded.describe() if recorded else "the account this data dir's records came from"
    return Verdict(
        Judgement.OTHER,
        f"another account: it holds none of {named}, which this data dir has from {was}",
    )


def read_bindings(path: Path) -> dict[str, Recorded]:
    """The recorded accounts by API (none when the file is missing)."""
    try:
        stored: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {api: Recorded(**fields) for api, fields in stored.items()}


def write_bindings(path: Path, bindings: Mapping[str, Recorded]) -> None:
    """Written whole to a temporary file, then renamed: a kill leaves the old or the new."""
    temporary = path.with_suffix(".json.tmp")
    text = json.dumps({api: asdict(r) for api, r in sorted(bindings.items())}, indent=2)
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, path)
