"""How much of Fincome reconcile read, kind by kind: a view, every document by id, a sample,
or nothing, and why.

For each kind of document (invoices, credit notes) in this order:
1. the view `discovery.py` chose, read whole (it also shows documents billing-sync never
   pushed); a view that answers an error is reported and the next step is taken;
2. else by id (`byid.py`): every document Metronome counts or the ledger holds, or with
   `--sample N` N of them (of each kind); the others are compared without Fincome;
3. else, when Fincome refuses reads by id too (the path is not served, an answer that is not
   a document), nothing: that kind is compared between Metronome and the ledger only.
Connection failures and a refused key are not fallbacks: they fail the command, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from destinations.fincome import FincomeClient, RequestRejected, UnexpectedResponse
from pipelines.reconcile.byid import READ, read_by_id, sample
from pipelines.reconcile.discovery import KINDS, Choice, DocumentView
from pipelines.reconcile.documents import DocumentKind, Documents
from pipelines.reconcile.fincome import read_view

How = Literal["view", "by_id", "sample", "unread"]
KIND_LABELS: dict[DocumentKind, str] = {"invoice": "invoices", "credit_note": "credit notes"}
REFUSALS = (RequestRejected, UnexpectedResponse)  # Fincome answered, but not what we read


@dataclass(frozen=True)
class KindRead:
    """How one kind of document was read from Fincome."""

    kind: DocumentKind
    how: How
    view: DocumentView | None = None
    asked: int = 0  # by id: documents asked for
    absent: int = 0  # by id: answered 404
    unchecked: frozenset[str] = frozenset()  # known documents whose Fincome copy was not read
    problem: str | None = None  # why it was not read whole

    @property
    def complete(self) -> bool:
        return self.how in ("view", "by_id")

    @property
    def all_absent(self) -> bool:
        """Every document asked by id answered 404: none held, or the path is not served."""
        return self.asked > 0 and self.absent == self.asked

    def describe(self, path: str) -> str:
        label = KIND_LABELS[self.kind]
        if self.view is not None:
            return f"{label}: read from {self.view.describe()}"
        if self.how == "unread":
            return f"{label}: not checked in Fincome ({self.problem})"
        sampled = f"a sample of {self.asked}" if self.how == "sample" else f"all {self.asked}"
        rest = f"; {len(self.unchecked):,} others not checked" if self.unchecked else ""
        if self.all_absent:
            rest += (
                f"; a 404 for every one means Fincome holds none of them or does not serve "
                f"{path} (`billing-sync check` tells which)"
            )
        return (
            f"{label}: no view fits, so {sampled} read one by one (GET {path}/{{id}}), "
            f"{self.absent:,} not in Fincome{rest}; documents billing-sync never pushed cannot "
            "be found this way"
        )

    def to_json(self, path: str) -> dict[str, Any]:
        return {
            "how": self.how,
            "view": self.view.slug if self.view else None,
            "columns": dict(self.view.columns) if self.view else None,
            "read_by_id": self.asked,
            "absent": self.absent,
            "not_checked": len(self.unchecked),
            "description": self.describe(path),
        }


@dataclass
class FincomeSide:
    documents: Documents = field(default_factory=dict)
    reads: dict[DocumentKind, KindRead] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(read.complete for read in self.reads.values())

    @property
    def unchecked(self) -> frozenset[str]:
        return frozenset().union(*(read.unchecked for read in self.reads.values()))


def read_chosen_views(client: FincomeClient, choice: Choice) -> FincomeSide:
    """Step 1 for every kind that has a view; the others are left for `read_the_rest`."""
    side = FincomeSide(problems=list(choice.problems))
    views = {view.slug: view for view in choice.views.values() if view is not None}
    for slug, view in sorted(views.items()):
        kinds = [kind for kind in KINDS if choice.views[kind] is view]
        try:
            side.documents.update(read_view(client, view, kinds))
        except REFUSALS as exc:
            side.problems.append(f"view `{slug}` could not be read ({exc}); read by id instead")
            continue
        side.reads.update({kind: KindRead(kind, "view", view=view) for kind in kinds})
    return side


def read_the_rest(
    client: FincomeClient,
    side: FincomeSide,
    known: Mapping[DocumentKind, set[str]],
    sample_size: int | None,
) -> FincomeSide:
    """Steps 2 and 3 for every kind no view was read for."""
    for kind in KINDS:
        if kind in side.reads:
            continue
        ids = sample(known[kind], sample_size)
        unchecked = frozenset(known[kind]) - frozenset(ids)
        try:
            found = read_by_id(client, kind, ids)
        except REFUSALS as exc:
            side.reads[kind] = KindRead(kind, "unread", unchecked=frozenset(known[kind]),
                                        problem=f"reading by id failed: {exc}")  # fmt: skip
            continue
        side.documents.update(found.documents)
        how: How = "sample" if unchecked else "by_id"
        side.reads[kind] = KindRead(kind, how, None, found.asked, found.absent, unchecked)
    side.reads = {kind: side.reads[kind] for kind in KINDS}  # invoices first, as everywhere
    return side


def collection_path(client: FincomeClient, kind: DocumentKind) -> str:
    return client.paths.root(READ[kind][0])
