"""What the mapping reads: the staging reader's `Catalog` and `CustomerBundle`, by shape.

`pipelines.staging` (docs/ARCHITECTURE.md) defines the concrete types; the mapping only needs
these attributes, so any object carrying them (the reader's frozen dataclasses, a test's
literal) will do. Every value is an API-shaped dict as Metronome returned it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Record = Mapping[str, Any]


class CatalogLike(Protocol):
    @property
    def plans(self) -> Mapping[str, Record]: ...  # by plan id

    @property
    def plan_charges(self) -> Mapping[str, Record]: ...  # by charge id, each with `plan_id`

    @property
    def credit_types(self) -> Mapping[str, Record]: ...  # by credit type id


class CustomerBundleLike(Protocol):
    @property
    def customer(self) -> Record: ...

    @property
    def plans(self) -> Sequence[Record]: ...  # its customer plans

    @property
    def invoices(self) -> Sequence[Record]: ...  # every status: DRAFT, FINALIZED, VOID

    @property
    def contracts(self) -> Sequence[Record]: ...  # its contracts (`POST /v2/contracts/list`)


@dataclass(frozen=True)
class StagedCatalog:
    """A plain `CatalogLike`, for tests and callers that hold the data already."""

    plans: Mapping[str, Record] = field(default_factory=dict)
    plan_charges: Mapping[str, Record] = field(default_factory=dict)
    credit_types: Mapping[str, Record] = field(default_factory=dict)


@dataclass(frozen=True)
class StagedCustomer:
    """A plain `CustomerBundleLike`, for tests and callers that hold the data already."""

    customer: Record
    plans: Sequence[Record] = ()  # its customer plans
    invoices: Sequence[Record] = ()
    contracts: Sequence[Record] = ()
