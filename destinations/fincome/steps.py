"""From rows to writes: what each row needs Fincome to do, given what the ledger holds.

Pure: rows and a snapshot of the ledger in, one `RowPlan` (ordered `Step`s) or one `Reject`
per row out. A row of collection `c` is upserted by `id`:

- unknown to the ledger: one create, carrying its embedded lines when it has them;
- known with another hash: one update (the create body with its lines rides along, for the
  client's 404 -> create);
- known with the same hash: nothing;
- `_deleted: true`: a delete (after deleting the lines the ledger holds under it);
- embedded lines of an invoice / credit note that is not created are diffed one by one
  against the ledger: created, updated, or deleted when the row no longer lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from destinations.fincome.body import body_hash, canonical_body, embedded_rows, to_json
from destinations.fincome.ledger import LedgerEntry, Reject
from destinations.fincome.schema import EMBEDDED_CHILD, Collection, collection

Action = Literal["create", "update", "delete"]
DELETED_FLAG = "_deleted"
MISSING_ID = "(no id)"


@dataclass(frozen=True)
class Step:
    """One HTTP write and what the ledger learns once Fincome acknowledged it."""

    action: Action
    collection: str
    item_id: str
    body: dict[str, Any] | None = None  # None for deletes
    create_body: dict[str, Any] | None = None  # updates: recreate with this on 404
    record: tuple[LedgerEntry, ...] = ()
    blocking: bool = True  # if Fincome rejects it, the row's later steps are skipped


@dataclass(frozen=True)
class RowPlan:
    collection: str
    item_id: str
    steps: tuple[Step, ...]
    # ids of rows of the same collection it references, or of lines its own lines reference
    after: tuple[str, ...] = ()
    holds: tuple[str, ...] = ()  # ids of the lines it carries


def dependency_waves(rows: Sequence[RowPlan]) -> list[list[RowPlan]]:
    """Rows in waves: a row that references another row of the batch (a customer's
    `root_parent_id`), or whose lines reference a line another row carries (a proration
    target), goes in a later wave than that row, so rows sent concurrently never race what
    they name. A cycle goes in one last wave."""
    pending = {row.item_id: row for row in rows}
    holder = {line_id: row.item_id for row in rows for line_id in row.holds}

    def waits(row: RowPlan) -> bool:
        named = (holder.get(i, i) for i in row.after)
        return any(i in pending and i != row.item_id for i in named)

    waves: list[list[RowPlan]] = []
    while pending:
        ready = [row for row in pending.values() if not waits(row)]
        wave = ready or list(pending.values())
        for row in wave:
            del pending[row.item_id]
        waves.append(wave)
    return waves


@dataclass(frozen=True)
class LedgerSnapshot:
    """What the ledger holds for one batch: hashes of rows and lines, line ids per parent."""

    hashes: Mapping[str, str] = field(default_factory=dict)
    line_hashes: Mapping[str, str] = field(default_factory=dict)
    lines_of: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass
class BatchPlan:
    rows: list[RowPlan] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class RowRefused(ValueError):
    """A row that cannot become a request; its message is the reject reason."""


def latest_by_id(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One row per id, the last one winning (as a merge would); rows without id are kept."""
    by_id: dict[str, Mapping[str, Any]] = {}
    without_id: list[Mapping[str, Any]] = []
    for row in rows:
        row_id = row.get("id")
        if row_id in (None, ""):
            without_id.append(row)
        else:
            by_id.pop(str(row_id), None)  # re-insert so the order follows the last occurrence
            by_id[str(row_id)] = row
    return [*by_id.values(), *without_id]


def plan_batch(
    spec: Collection, rows: Sequence[Mapping[str, Any]], known: LedgerSnapshot
) -> BatchPlan:
    plan = BatchPlan()
    for row in rows:
        given_id = row.get("id")
        row_id = MISSING_ID if given_id in (None, "") else str(given_id)
        try:
            row_plan = _plan_row(spec, row_id, row, known)
        except ValueError as exc:  # RowRefused, BodyError, or embedded lines that are not JSON
            plan.rejects.append(Reject("push", spec.name, row_id, str(exc), payload=dict(row)))
            continue
        if row_plan.steps:
            plan.rows.append(row_plan)
        else:
            plan.unchanged.append(row_id)
    return plan


def line_ids(spec: Collection, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids of every line embedded in `rows` (lines without an id are refused later)."""
    found: list[str] = []
    for row in rows:
        try:
            lines = embedded_rows(spec, row) or []
        except ValueError:
            continue  # refused with its reason when the row is planned
        found.extend(
            str(line["id"]) for line in lines if isinstance(line, Mapping) and line.get("id")
        )
    return found


def _plan_row(
    spec: Collection, row_id: str, row: Mapping[str, Any], known: LedgerSnapshot
) -> RowPlan:
    if row_id == MISSING_ID:
        raise RowRefused("the row has no id")
    if row.get(DELETED_FLAG):
        return RowPlan(spec.name, row_id, _delete_steps(spec, row_id, known))
    body = canonical_body(spec, row)
    entry = LedgerEntry(spec.name, row_id, body_hash(body), body, _parent_id(spec, row))
    lines = _line_entries(spec, row_id, row)
    create_body = _with_lines(spec, body, lines)
    to_json(create_body)  # an amount JSON cannot carry exactly is refused here, not mid-send
    known_hash = known.hashes.get(row_id)
    after = (*_self_references(spec, body), *_line_references(lines))
    holds = tuple(line.id for line in lines or ())
    if known_hash is None:
        steps = [Step("create", spec.name, row_id, create_body, record=(entry, *(lines or ())))]
        return RowPlan(spec.name, row_id, tuple(steps), after, holds)
    steps = []
    if known_hash != entry.row_hash:
        update = canonical_body(spec, row, op="update")
        steps.append(Step("update", spec.name, row_id, update, create_body, (entry,)))
    if lines is not None:
        steps.extend(_line_steps(spec, row_id, lines, known))
    return RowPlan(spec.name, row_id, tuple(steps), after, holds)


def _delete_steps(spec: Collection, row_id: str, known: LedgerSnapshot) -> tuple[Step, ...]:
    if not spec.deletable:
        raise RowRefused(f"{spec.name} cannot be deleted: the Fincome API has no delete for it")
    child = EMBEDDED_CHILD.get(spec.name)
    held = known.lines_of.get(row_id, ()) if child else ()
    # lines first, whether or not Fincome cascades: a credit note never leaves orphans behind
    line_deletes = [
        Step("delete", child.name, line_id, blocking=False) for line_id in held if child
    ]
    return (*line_deletes, Step("delete", spec.name, row_id))


def _line_entries(
    spec: Collection, row_id: str, row: Mapping[str, Any]
) -> list[LedgerEntry] | None:
    """Ledger entries of the row's embedded lines (None when it embeds none)."""
    lines = embedded_rows(spec, row)
    child = EMBEDDED_CHILD.get(spec.name)
    if lines is None or child is None:
        return None
    parent_field = _parent_field(child, spec.name)
    entries: dict[str, LedgerEntry] = {}
    for line in lines:
        if not isinstance(line, Mapping) or not line.get("id"):
            raise RowRefused(f"{spec.embedded}: every line needs an id")
        owner = line.get(parent_field)
        if owner not in (None, "", row_id):
            raise RowRefused(f"line {line['id']} belongs to {owner}, not {row_id}")
        body = canonical_body(child, {**line, parent_field: row_id})
        line_id = str(line["id"])
        if line_id in entries:
            raise RowRefused(f"line {line_id} is listed twice")
        entries[line_id] = LedgerEntry(child.name, line_id, body_hash(body), body, row_id)
    return list(entries.values())


def _line_steps(
    spec: Collection, row_id: str, lines: list[LedgerEntry], known: LedgerSnapshot
) -> list[Step]:
    child = EMBEDDED_CHILD[spec.name]
    steps: list[Step] = []
    for line in lines:
        known_hash = known.line_hashes.get(line.id)
        if known_hash is None:
            steps.append(Step("create", child.name, line.id, line.body, None, (line,), False))
        elif known_hash != line.row_hash:
            update = canonical_body(child, line.body, op="update")
            steps.append(Step("update", child.name, line.id, update, line.body, (line,), False))
    listed = {line.id for line in lines}
    for line_id in known.lines_of.get(row_id, ()):
        if line_id not in listed:
            steps.append(Step("delete", child.name, line_id, blocking=False))
    return steps


def _with_lines(
    spec: Collection, body: dict[str, Any], lines: list[LedgerEntry] | None
) -> dict[str, Any]:
    if lines is None or spec.embedded is None:
        return body
    return {**body, spec.embedded: [line.body for line in lines]}


def _self_references(spec: Collection, body: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(body[name]) for name in spec.self_references if body.get(name) is not None)


def _line_references(lines: list[LedgerEntry] | None) -> tuple[str, ...]:
    """The lines its lines name (a proration target), its own lines included."""
    found: list[str] = []
    for line in lines or ():
        found.extend(_self_references(collection(line.collection), line.body))
    return tuple(found)


def _parent_field(child: Collection, parent: str) -> str:
    return next(name for name, target in child.parents if target == parent)


def _parent_id(spec: Collection, row: Mapping[str, Any]) -> str | None:
    """Lines record the invoice / credit note they belong to, so it can find them again."""
    for parent_name, child in EMBEDDED_CHILD.items():
        if child.name == spec.name:
            value = row.get(_parent_field(child, parent_name))
            return None if value is None else str(value)
    return None
