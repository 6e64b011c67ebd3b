"""The transform: staged Metronome catalog and customers in, the desired Fincome rows out.

`transform` streams: it maps customer by customer and yields each one's invoices, lines,
credit notes and subscriptions at once, so memory stays flat however many customers there
are. What needs every customer comes last: customers (a parent must be known to be synced),
then products and prices (shared by all customers). Pure: no I/O, no clock (`as_of` is given).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from destinations.fincome.rows import CustomerRow, FincomeRow
from destinations.fincome.schema import PUSH_ORDER
from pipelines.transform.bundle import CustomerRows, Skipped
from pipelines.transform.catalog import CatalogUsage, CatalogView, catalog_view
from pipelines.transform.customer_mapping import map_customer
from pipelines.transform.customers import with_root_parents
from pipelines.transform.inputs import CatalogLike, CustomerBundleLike
from pipelines.transform.options import MappingOptions
from pipelines.transform.prices import price_rows
from pipelines.transform.products import product_rows
from pipelines.transform.rejects import TransformReject
from pipelines.transform.values import to_datetime

# A customer's invoice-side rows, yielded in this order after its subscriptions.
INVOICE_COLLECTIONS = ("invoices", "invoice_line_items", "credit_notes", "credit_note_line_items")


@dataclass(frozen=True)
class Emitted:
    """One desired Fincome row of `collection`."""

    collection: str
    row: FincomeRow


def transform(
    catalog: CatalogLike,
    bundles: Iterable[CustomerBundleLike],
    options: MappingOptions,
    as_of: datetime,
) -> Iterator[Emitted | TransformReject | Skipped]:
    """Every desired Fincome row, every transform reject and every record skipped as not
    revenue (bundle.py), deterministically ordered."""
    view = catalog_view(catalog)
    account = Account()
    yield from account.map_customers(view, bundles, options, as_of)
    yield from shared_rows(view, account.customers.values(), account.usage, options)


def shared_rows(
    view: CatalogView,
    customers: Iterable[CustomerRow],
    usage: CatalogUsage,
    options: MappingOptions,
) -> Iterator[Emitted]:
    """What needs every customer: customers (parents known), then products and prices.

    `customers` are the rows of every admitted customer with its direct payer as parent;
    `usage` what all their synced lines used of the catalog (it is completed with the
    products the prices need).
    """
    for customer in with_root_parents(customers):
        yield Emitted("customers", customer)
    prices = price_rows(view, usage, options)  # first: prices register their products
    for product in product_rows(view, usage):
        yield Emitted("products", product)
    for price in prices:
        yield Emitted("prices", price)


@dataclass
class Account:
    """The customers mapped so far, and what later customers' ids must not repeat.

    `customers` holds each admitted customer's row with its direct payer as parent, and
    `usage` what their synced lines used of the catalog: together with the catalog, all
    `shared_rows` needs (a shard hands them on to `push-shared` as its shared facts).
    """

    customers: dict[str, CustomerRow] = field(default_factory=dict)
    invoice_ids: set[str] = field(default_factory=set)  # invoices and credit notes
    subscription_ids: set[str] = field(default_factory=set)
    usage: CatalogUsage = field(default_factory=CatalogUsage)

    def map_customers(
        self,
        view: CatalogView,
        bundles: Iterable[CustomerBundleLike],
        options: MappingOptions,
        as_of: datetime,
    ) -> Iterator[Emitted | TransformReject | Skipped]:
        """Each customer's own rows, rejects and skips, customer by customer."""
        moment = to_datetime(as_of, "as_of")
        for bundle in bundles:
            mapped = map_customer(bundle, view, options, moment, self.invoice_ids)
            yield from mapped.rejects
            yield from mapped.skipped
            yield from self.admit(mapped, bundle.customer)

    def admit(self, mapped: CustomerRows, payload: object) -> Iterator[Emitted | TransformReject]:
        """One customer's rows, unless its id (or a customer plan id) is already taken."""
        if mapped.customer is None:
            return
        customer_id = mapped.customer["id"]
        if customer_id in self.customers:
            yield TransformReject(
                "customers", customer_id, "duplicate customer id", payload=payload
            )
            return
        self.customers[customer_id] = mapped.customer
        self.usage.merge(mapped.usage)
        for row in mapped.rows.get("subscriptions", ()):
            if row["id"] in self.subscription_ids:
                reason = "customer plan id already used by another customer"
                yield TransformReject("customer_plans", row["id"], reason, payload=row)
            else:
                self.subscription_ids.add(row["id"])
                yield Emitted("subscriptions", row)
        for collection in INVOICE_COLLECTIONS:
            for row in mapped.rows.get(collection, ()):
                yield Emitted(collection, row)
        self.invoice_ids.update(row["id"] for row in mapped.rows.get("invoices", ()))
        self.invoice_ids.update(row["id"] for row in mapped.rows.get("credit_notes", ()))


@dataclass
class DesiredState:
    """The whole output of `transform` in memory: rows per collection and the rejects."""

    rows: dict[str, list[FincomeRow]] = field(
        default_factory=lambda: {collection.name: [] for collection in PUSH_ORDER}
    )
    rejects: list[TransformReject] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def desired_state(
    catalog: CatalogLike,
    bundles: Iterable[CustomerBundleLike],
    options: MappingOptions,
    as_of: datetime,
) -> DesiredState:
    state = DesiredState()
    for item in transform(catalog, bundles, options, as_of):
        if isinstance(item, TransformReject):
            state.rejects.append(item)
        elif isinstance(item, Skipped):
            state.skipped.append(item)
        else:
            state.rows[item.collection].append(item.row)
    return state
