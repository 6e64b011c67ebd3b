"""What "converged" means after faults or kills, checked against a fault-free reference.

- `converged_problems(held, reference, data_dir)`: Fincome holds exactly the reference state
  (a fault-free run's), which is also exactly the mapped state in the data dir (`desired`),
  the ledger knows exactly what Fincome holds, nothing is left to push, and the money of
  every line collection adds up to the same sums per currency;
- `creation_problems(post_log)`: from a request log of POSTs with their bodies, every id was
  created by exactly one successful POST, or by a POST that was applied but answered an
  error, after which every further create of that id met a 409 (and became an update).

Both return lists of problems (empty when all is well), so a failing test says every way in
which a run diverged, not only the first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from destinations.fincome.schema import EMBEDDED_CHILD
from pipelines.plan import plan_push
from tests.integration.bodies import Bodies, desired

# the line collections and the field holding each line's amount
AMOUNT_FIELDS = {
    "invoice_line_items": "amount_excluding_tax_after_discount",
    "credit_note_line_items": "amount",
}
Money = dict[str, dict[str, Decimal]]


def money_by_currency(state: Bodies) -> Money:
    """Sum of line amounts per line collection and currency."""
    sums: Money = {}
    for name, amount_field in AMOUNT_FIELDS.items():
        per_currency: dict[str, Decimal] = defaultdict(Decimal)
        for line in state.get(name, {}).values():
            per_currency[str(line["currency_code"])] += Decimal(str(line[amount_field]))
        sums[name] = dict(per_currency)
    return sums


def converged_problems(held: Bodies, reference: Bodies, data_dir: Path) -> list[str]:
    """Every way in which `held` (Fincome's records, canonical) is not the converged state."""
    problems = _differences("Fincome vs the fault-free run", held, reference)
    problems += _differences("Fincome vs desired()", held, desired(data_dir))
    if money_by_currency(held) != money_by_currency(reference):
        problems.append(
            f"money differs: {money_by_currency(held)} != {money_by_currency(reference)}"
        )
    ledger = _ledger_ids(data_dir)
    for name, records in held.items():
        if ledger.get(name, set()) != set(records):
            problems.append(f"the ledger's {name} are not what Fincome holds")
    with duckdb.connect(str(data_dir / "billing_sync.duckdb")) as db:
        left = plan_push(db).writes
    if left:
        problems.append(f"{left} writes still planned after the run finished")
    return problems


def creation_problems(requests: Iterable[Mapping[str, Any]]) -> list[str]:
    """Ids whose creates in the log (POSTs with captured bodies) are not exactly-once."""
    statuses: dict[tuple[str, str], list[int]] = defaultdict(list)
    bodiless: list[str] = []
    for entry in requests:
        if entry["method"] != "POST":
            continue
        collection = entry["path"].strip("/").split("/")[0]
        if "body" not in entry:
            # a kill -9 between the request's headers and its body: nothing reached the store,
            # so the emulator cannot have answered it as a create
            if entry["status"] in (201, 409):
                bodiless.append(f"{collection}: a create answered {entry['status']} without a body")
            continue
        body = json.loads(entry["body"])
        statuses[(collection, str(body["id"]))].append(entry["status"])
        child = EMBEDDED_CHILD.get(collection)
        # embedded lines share their parent's fate: created by its 201, known by its 409
        for line in body.get(child.name, []) if child else []:
            statuses[(child.name, str(line["id"]))].append(entry["status"])
    return bodiless + [
        f"{collection} {item_id}: creates answered {answers}"
        for (collection, item_id), answers in sorted(statuses.items())
        if not _created_once(answers)
    ]


def _created_once(answers: list[int]) -> bool:
    created = answers.count(201)
    if created > 1:
        return False
    if created == 1:
        # nothing existed before the 201, so no 409 may come before it
        return 409 not in answers[: answers.index(201)]
    # no 201: an earlier POST was applied but answered an error; the next create met a 409
    return 409 in answers


def _differences(label: str, held: Bodies, expected: Bodies) -> list[str]:
    problems = []
    for name in sorted(set(held) | set(expected)):
        mine, theirs = held.get(name, {}), expected.get(name, {})
        missing, extra = sorted(set(theirs) - set(mine)), sorted(set(mine) - set(theirs))
        changed = sorted(i for i in set(mine) & set(theirs) if mine[i] != theirs[i])
        for kind, ids in (("missing", missing), ("extra", extra), ("different", changed)):
            if ids:
                problems.append(f"{label}: {name} {kind}: {ids[:5]} ({len(ids)} in all)")
    return problems


def _ledger_ids(data_dir: Path) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = defaultdict(set)
    with duckdb.connect(str(data_dir / "billing_sync.duckdb")) as db:
        for name, item_id in db.execute(
            "SELECT collection, id FROM fincome_sync.ledger"
        ).fetchall():
            ids[name].add(item_id)
    return ids
