"""The Metronome dlt source: customers, customer plans, contracts, plans, plan charges, credit
types and invoices, each merged by id into its own table.

Accounts mix both of Metronome's models: plan customers (the "Plans (deprecated)"
endpoints) and contract customers (`POST /v2/contracts/list`), so both are read for every
customer. `max_table_nesting=0` keeps nested objects whole as JSON columns, so an invoice
with its line items, sub-lines, tiers and adjustments is one row, and a contract with its
subscriptions, commits, credits and scheduled charges too. Invoices of both models come from
the one invoice list (a contract's carry `contract_id`); historical commit invoices are not
asked for (`settings.INVOICE_LIST_OPTIONS` says why). Records that cannot be staged go to
`on_reject` and the run goes on. Invoices are read per customer, in parallel (a parallelized
transformer: size dlt's `[extract] workers` like `max_concurrency`), from a window that each
customer's cursor decides (see `cursors.py`).

    pipeline = dlt.pipeline("metronome", destination="duckdb", dataset_name="metronome_raw")
    pipeline.run(metronome_source())  # [sources.metronome], token: SOURCES__METRONOME__API_TOKEN
    settings = MetronomeSettings(api_token=token, base_url=url).resolve()  # checked, as given
    pipeline.run(metronome_source(settings))
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.extract import DltResource

from httpkit import RequestStats
from sources.metronome.client import MetronomeClient
from sources.metronome.cursors import BillingWindow, InvoiceReadPlan
from sources.metronome.customer_reads import CustomerReads
from sources.metronome.progress import CustomerFilter, ExtractProgress, ProgressSink, no_progress
from sources.metronome.records import ExtractReject, RejectSink
from sources.metronome.resources import (
    list_contracts,
    list_credit_types,
    list_customer_plans,
    list_customers,
    list_invoices,
    list_plan_charges,
    list_plans,
)
from sources.metronome.settings import (
    CONTRACT_COLUMNS,
    CREDIT_TYPE_COLUMNS,
    CUSTOMER_COLUMNS,
    CUSTOMER_PLAN_COLUMNS,
    INVOICE_COLUMNS,
    PLAN_CHARGE_COLUMNS,
    PLAN_COLUMNS,
    MetronomeSettings,
    SettingsProblem,
    type_hinted_columns_only,
)

__all__ = [
    "CustomerFilter",
    "ExtractProgress",
    "ExtractReject",
    "MetronomeClient",
    "MetronomeSettings",
    "ProgressSink",
    "SettingsProblem",
    "metronome_source",
]

log = logging.getLogger(__name__)
# the resources listing customers and plans, not loaded (see `_resources`)
CUSTOMER_LIST, PLAN_LIST = "customer_list", "plan_list"


def _log_reject(reject: ExtractReject) -> None:
    log.warning("%s %s not staged: %s", reject.collection, reject.record_id, reject.reason)


@dlt.source(name="metronome", max_table_nesting=0, spec=MetronomeSettings)
def metronome_source(
    settings: MetronomeSettings = dlt.config.value,
    *,
    full_refresh: bool = False,
    backfill_start: datetime | None = None,
    backfill_end: datetime | None = None,
    customer_ids: Sequence[str] | None = None,
    keep_customer: CustomerFilter | None = None,
    on_reject: RejectSink | None = None,
    on_progress: ProgressSink | None = None,
    request_stats: RequestStats | None = None,
) -> Sequence[DltResource]:
    """Metronome's billing objects, read incrementally per customer.

    Args:
        settings: how to reach Metronome, used whole. Resolved settings (`.resolve()`,
            `settings.resolve`) are taken as given; otherwise dlt resolves them from
            `[sources.metronome]` (their values are then defaults under the configuration's).
            An unusable value is a `SettingsProblem`.
        full_refresh: re-read every invoice and rebuild the per-customer cursors.
        backfill_start, backfill_end: re-read only these billing periods (Metronome's
            `starting_on`/`ending_before`); no cursor moves.
        customer_ids: only these customers (and their plans, contracts and invoices).
        keep_customer: only the customers whose id it accepts (e.g. one shard of them).
        on_reject: receives every record that cannot be staged (default: a warning log).
        on_progress: told when a customer is listed and when its invoices are read.
        request_stats: counts every HTTP attempt, for run reports.
    """
    type_hinted_columns_only(dlt.current.source_schema())
    client = MetronomeClient(settings, stats=request_stats)
    plan = InvoiceReadPlan(
        lookback_days=settings.lookback_days,
        full_refresh=full_refresh,
        backfill=_backfill_window(backfill_start, backfill_end),
    )
    customers = _CustomerSelection(customer_ids, keep_customer)
    return _resources(client, plan, customers, on_reject or _log_reject, on_progress or no_progress)


def _backfill_window(start: datetime | None, end: datetime | None) -> BillingWindow | None:
    if start is None and end is None:
        return None
    if start is None or end is None or not start < end:
        raise ValueError("a backfill needs both backfill_start and backfill_end, start first")
    return BillingWindow(starting_on=start, ending_before=end)


@dataclass(frozen=True)
class _CustomerSelection:
    ids: Sequence[str] | None
    keep: CustomerFilter | None


def _resources(
    client: MetronomeClient,
    plan: InvoiceReadPlan,
    selection: _CustomerSelection,
    on_reject: RejectSink,
    on_progress: ProgressSink,
) -> tuple[DltResource, ...]:
    merged: dict[str, Any] = {"write_disposition": "merge", "primary_key": "id"}
    reads = CustomerReads()  # one per run: customers whose lists fail, in a row
    # Customers and plans are listed by resources that are not loaded themselves: they feed
    # the reads of each customer's and plan's lists, and their tables take the records from
    # a pass-through transformer, a leaf like every other table. A step added to a table's
    # resource (a filter of what to stage) then never stops the reads that hang off it.
    customer_list = dlt.resource(list_customers, name=CUSTOMER_LIST, selected=False)(
        client, selection.ids, on_reject, selection.keep, on_progress
    )
    plan_list = dlt.resource(list_plans, name=PLAN_LIST, selected=False)(client, on_reject)
    customers = dlt.transformer(
        _as_listed, data_from=customer_list, name="customers", columns=CUSTOMER_COLUMNS, **merged
    )
    plans = dlt.transformer(
        _as_listed, data_from=plan_list, name="plans", columns=PLAN_COLUMNS, **merged
    )
    credit_types = dlt.resource(
        list_credit_types, name="credit_types", columns=CREDIT_TYPE_COLUMNS, **merged
    )(client, on_reject)

    def per_parent(function: Any, parent: DltResource, name: str, columns: Any) -> Any:
        """A list read once per parent row, on dlt's extract threads, merged by id."""
        return dlt.transformer(
            function, data_from=parent, name=name, columns=columns, parallelized=True, **merged
        )

    customer_plans = per_parent(
        list_customer_plans, customer_list, "customer_plans", CUSTOMER_PLAN_COLUMNS
    )(client, on_reject, reads)
    contracts = per_parent(list_contracts, customer_list, "contracts", CONTRACT_COLUMNS)(
        client, on_reject, reads
    )
    plan_charges = per_parent(list_plan_charges, plan_list, "plan_charges", PLAN_CHARGE_COLUMNS)(
        client, on_reject
    )
    invoices = per_parent(list_invoices, customer_list, "invoices", INVOICE_COLUMNS)(
        client, plan, on_reject, datetime.now(UTC), reads=reads, on_progress=on_progress
    )
    return (
        customer_list,
        plan_list,
        customers,
        customer_plans,
        contracts,
        plans,
        plan_charges,
        credit_types,
        invoices,
    )


def _as_listed(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield record
