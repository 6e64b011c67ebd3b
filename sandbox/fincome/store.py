"""The emulator's state and its rules: collections by id, parent checks, atomic creates with
embedded lines, delete rules, dump.

Every write either applies completely or raises an `ApiError` before touching anything, so an
invoice and its lines are stored together or not at all. The store runs on the server's one
event loop and never awaits, so a write is never interleaved with another request.

Rules beyond the body types (`validation.py`):
- a create of an id that exists, or whose embedded line ids exist, answers 409 as a whole;
- every non-null reference must name a stored record (or one created by the same request:
  the invoice its embedded lines point at, a sibling line as proration target);
- an embedded line's `invoice_id`/`credit_note_id` must be its parent's id;
- a `subscription` line needs `period_start < period_end` (MRR divides by its service
  period; Fincome's import rules say the same), checked on the merged record for updates;
- deletes follow `schema.py`: a credit note takes its lines with it, other references to a
  deleted record are set to null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sandbox.fincome.errors import Conflict, ErrorItem, Invalid, Loc, NotFound, error_item
from sandbox.fincome.schema import COLLECTIONS, PARENT_FIELD, CollectionSpec, Reference
from sandbox.fincome.validation import VALIDATORS

Record = dict[str, Any]
Pending = dict[str, set[str]]

# (collection that points, its reference) for every collection pointed at
_INBOUND: dict[str, list[tuple[CollectionSpec, Reference]]] = {name: [] for name in COLLECTIONS}
for _spec in COLLECTIONS.values():
    for _ref in _spec.references:
        _INBOUND[_ref.target].append((_spec, _ref))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FincomeStore:
    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self.version = 0  # bumped by every write and reset, never reused: read caches key on it
        self.reset()

    def reset(self) -> None:
        """Forget everything."""
        self.records: dict[str, dict[str, Record]] = {name: {} for name in COLLECTIONS}
        # (collection, reference field) -> target id -> ids of the records pointing at it
        self._referrers: dict[tuple[str, str], dict[str, dict[str, None]]] = {
            (spec.name, ref.field): {} for spec in COLLECTIONS.values() for ref in spec.references
        }
        self.version += 1

    def get(self, collection: str, record_id: str) -> Record:
        """The stored record (no embedded lines), or 404."""
        record = self.records[collection].get(record_id)
        if record is None:
            raise NotFound(f"{collection} {record_id!r} not found")
        return record

    def read(self, collection: str, record_id: str) -> Record:
        """The record as the API shows it: invoices and credit notes with their lines."""
        record = self.get(collection, record_id)
        embedded = COLLECTIONS[collection].embedded
        if embedded is None:
            return record
        return {**record, embedded: self.lines_of(collection, record_id)}

    def lines_of(self, collection: str, parent_id: str) -> list[Record]:
        """The line items of an invoice or credit note, in creation order."""
        child = COLLECTIONS[collection].embedded
        assert child is not None, f"{collection} has no line items"
        ids = self.referrers(child, PARENT_FIELD[child], parent_id)
        return [self.records[child][line_id] for line_id in ids]

    def referrers(self, collection: str, field: str, target_id: str) -> Iterable[str]:
        """Ids of the `collection` records whose `field` names `target_id`."""
        return self._referrers[(collection, field)].get(target_id, {}).keys()

    def create(self, collection: str, payload: Any) -> Record:
        spec = COLLECTIONS[collection]
        body = VALIDATORS[collection].create(payload)
        embedded = body.pop(spec.embedded) if spec.embedded else None
        if body["id"] in self.records[collection]:
            raise Conflict(f"{collection} {body['id']!r} already exists")
        entries, errors = self._entries(spec, body, embedded or [])
        pending: Pending = {}
        for entry_spec, _, record in entries:
            pending.setdefault(entry_spec.name, set()).add(record["id"])
        for entry_spec, loc, record in entries:
            errors += self._rule_errors(entry_spec, record, loc, pending)
        if errors:
            raise Invalid(errors)
        for entry_spec, _, record in entries:
            self._insert(entry_spec, record)
        return self.read(collection, body["id"])

    def _entries(
        self, spec: CollectionSpec, body: Record, embedded: list[Record]
    ) -> tuple[list[tuple[CollectionSpec, Loc, Record]], list[ErrorItem]]:
        """The records one create writes (the body, then its embedded lines, each with its
        loc in the request) and the errors of the embedded lines as a group."""
        entries: list[tuple[CollectionSpec, Loc, Record]] = [(spec, ["body"], body)]
        if not spec.embedded:
            return entries, []
        child = COLLECTIONS[spec.embedded]
        lines = self._embedded_lines(child, embedded)
        entries += [(child, ["body", child.name, i], line) for i, line in enumerate(lines)]
        return entries, _embedding_errors(child, body["id"], lines)

    def _embedded_lines(self, child: CollectionSpec, lines: list[Record]) -> list[Record]:
        """Embedded lines with their defaults; 409 if one of them is already stored."""
        full = [VALIDATORS[child.name].with_defaults(line) for line in lines]
        for line in full:
            if line["id"] in self.records[child.name]:
                raise Conflict(f"{child.name} {line['id']!r} already exists")
        return full

    def update(self, collection: str, record_id: str, payload: Any) -> Record:
        spec = COLLECTIONS[collection]
        changes = VALIDATORS[collection].update(payload)
        record = self.get(collection, record_id)
        if changes.get("id", record_id) != record_id:
            msg = f"The body's id must be the id in the path ({record_id!r}) or be left out"
            raise Invalid([error_item(["body", "id"], msg, "id_mismatch", changes["id"])])
        errors = self._reference_errors(spec, changes, ["body"], {})
        errors += _period_errors(spec, {**record, **changes}, ["body"])
        if errors:
            raise Invalid(errors)
        self._unindex(spec, record)
        record.update(changes)
        record["updated_at"] = self._clock()
        self._index(spec, record)
        self.version += 1
        return self.read(collection, record_id)

    def delete(self, collection: str, record_id: str) -> None:
        spec = COLLECTIONS[collection]
        assert spec.deletable, f"the seed has no delete for {collection}"
        self._remove(spec, self.get(collection, record_id))
        self.version += 1

    def dump(self) -> dict[str, dict[str, Record]]:
        """Everything stored, per collection and id (invoices without embedded lines)."""
        return self.records

    def _insert(self, spec: CollectionSpec, body: Record) -> None:
        now = self._clock()
        record = {"created_at": now, "updated_at": now, **body}
        self.records[spec.name][record["id"]] = record
        self._index(spec, record)
        self.version += 1

    def _remove(self, spec: CollectionSpec, record: Record) -> None:
        del self.records[spec.name][record["id"]]
        self._unindex(spec, record)
        for source, ref in _INBOUND[spec.name]:
            pointing = self._referrers[(source.name, ref.field)].pop(record["id"], {})
            for source_id in pointing:
                other = self.records[source.name].get(source_id)
                if other is None:  # the record pointed at itself
                    continue
                if ref.on_delete == "cascade":
                    self._remove(source, other)
                else:
                    other[ref.field] = None
                    other["updated_at"] = self._clock()

    def _index(self, spec: CollectionSpec, record: Record) -> None:
        for ref in spec.references:
            target = record[ref.field]
            if target is not None:
                self._referrers[(spec.name, ref.field)].setdefault(target, {})[record["id"]] = None

    def _unindex(self, spec: CollectionSpec, record: Record) -> None:
        for ref in spec.references:
            pointing = self._referrers[(spec.name, ref.field)].get(record[ref.field])
            if pointing is not None:
                pointing.pop(record["id"], None)

    def _rule_errors(
        self, spec: CollectionSpec, record: Record, loc: Loc, pending: Pending
    ) -> list[ErrorItem]:
        return self._reference_errors(spec, record, loc, pending) + _period_errors(
            spec, record, loc
        )

    def _reference_errors(
        self, spec: CollectionSpec, record: Record, loc: Loc, pending: Pending
    ) -> list[ErrorItem]:
        errors = []
        for ref in spec.references:
            target = record.get(ref.field)
            if (
                target is None
                or target in self.records[ref.target]
                or target in pending.get(ref.target, ())
            ):
                continue
            msg = f"{ref.target} {target!r} does not exist"
            errors.append(error_item([*loc, ref.field], msg, "reference_not_found", target))
        return errors


def _period_errors(spec: CollectionSpec, record: Record, loc: Loc) -> list[ErrorItem]:
    if spec.name != "invoice_line_items" or record["type"] != "subscription":
        return []
    start, end = record["period_start"], record["period_end"]
    if start is None or end is None:
        missing = "period_start" if start is None else "period_end"
        msg = "A subscription line item needs its service period (period_start and period_end)"
        return [error_item([*loc, missing], msg, "invalid_period")]
    if start >= end:
        return [
            error_item(
                [*loc, "period_end"], "period_end must be after period_start", "invalid_period", end
            )
        ]
    return []


def _embedding_errors(
    child: CollectionSpec, parent_id: str, lines: list[Record]
) -> list[ErrorItem]:
    """Each embedded line points at the parent that embeds it, and ids are not repeated."""
    parent_field = PARENT_FIELD[child.name]
    errors: list[ErrorItem] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        loc: list[str | int] = ["body", child.name, index]
        if line[parent_field] != parent_id:
            msg = f"An embedded line item must point at its parent {parent_id!r}"
            errors.append(
                error_item([*loc, parent_field], msg, "parent_mismatch", line[parent_field])
            )
        if line["id"] in seen:
            msg = "Two line items of this request have the same id"
            errors.append(error_item([*loc, "id"], msg, "duplicate_id", line["id"]))
        seen.add(line["id"])
    return errors
