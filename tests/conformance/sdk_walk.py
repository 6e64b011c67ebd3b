"""Every endpoint the source reads, driven through the official SDK's own calls and paging.

`walk_account` lists and reads everything an account holds the way the SDK does it (small
page sizes, so its cursor handling really runs: `next_page` in the query for v1 lists,
`cursor` in the body for `POST /v2/contracts/list`) and checks three things per listing:
the SDK's strict validation accepted every page, no parsed record carries a field its model
does not declare, and the walk visited exactly the records `/_emulator/state` holds (none
missing, none repeated, none extra). A customer's invoices are walked twice: as listed by
default (without historical commit invoices) and with `include_historical_commit_invoices`;
its contracts too: by default (not archived) and with `include_archived`.

| source read                                 | SDK call                       | model            |
|---------------------------------------------|--------------------------------|------------------|
| GET /v1/customers (only_archived, ids)      | v1.customers.list              | CustomerDetail   |
| GET /v1/customers/{id}/plans                | v1.customers.plans.list        | PlanListResponse |
| GET /v1/customers/{id}/invoices             | v1.customers.invoices.list     | Invoice          |
| GET /v1/customers/{id}/invoices/{id}        | v1.customers.invoices.retrieve | Invoice (data)   |
| GET /v1/plans                               | v1.plans.list                  | PlanListResponse |
| GET /v1/planDetails/{id}                    | v1.plans.get_details           | PlanDetail       |
| GET /v1/planDetails/{id}/charges            | v1.plans.list_charges          | PlanListCharges… |
| GET /v1/credit-types/list                   | v1.pricing_units.list          | PricingUnitList… |
| POST /v2/contracts/list                     | v2.contracts.list              | ContractV2       |
| POST /v2/contracts/get                      | v2.contracts.retrieve          | ContractV2 (data)|
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import metronome
import pydantic

from tests.conformance.census import Census
from tests.conformance.invoice_filters import historical_commit_invoices
from tests.conformance.shapes import undeclared_fields

PAGE = 3  # small pages: every list of more than 3 records is walked through its cursor
CONTRACT_PAGE = 2  # POST /v2/contracts/list takes 1-20


def walk_account(client: metronome.Metronome, state: dict[str, Any]) -> Census:
    """Read the whole account through the SDK; `state` is what `/_emulator/state` answered."""
    census = Census()
    customers = _walk_customers(client, state, census)
    for customer_id in customers:
        _walk_customer(client, state, customer_id, census)
    _walk_plans(client, state, census)
    credit_types = _listed(census, "credit types", lambda: client.v1.pricing_units.list(limit=PAGE))
    _same_ids(census, "credit types", credit_types, state["credit_types"])
    return census


def _walk_customers(
    client: metronome.Metronome, state: dict[str, Any], census: Census
) -> list[str]:
    active = [c for c in state["customers"] if c.get("archived_at") is None]
    archived = [c for c in state["customers"] if c.get("archived_at") is not None]
    listed = _listed(census, "customers", lambda: client.v1.customers.list(limit=PAGE))
    _same_ids(census, "customers", listed, active)
    listed_archived = _listed(
        census,
        "archived customers",
        lambda: client.v1.customers.list(limit=PAGE, only_archived=True),
    )
    _same_ids(census, "archived customers", listed_archived, archived)
    chosen = [c["id"] for c in active[: PAGE + 1]]  # the SDK joins them with commas
    by_ids = _listed(
        census, "customers by id", lambda: client.v1.customers.list(limit=PAGE, customer_ids=chosen)
    )
    _same_ids(census, "customers by id", by_ids, active[: PAGE + 1])
    return [c["id"] for c in state["customers"]]


def _walk_customer(
    client: metronome.Metronome, state: dict[str, Any], customer_id: str, census: Census
) -> None:
    where = f"customer {customer_id}"
    plans = _listed(
        census,
        f"{where} plans",
        lambda: client.v1.customers.plans.list(customer_id=customer_id, limit=PAGE),
    )
    _same_ids(census, f"{where} plans", plans, state["customer_plans"].get(customer_id, []))
    stored = [i for i in state["invoices"] if i["customer_id"] == customer_id]
    hidden = historical_commit_invoices(state)
    for historical in (False, True):
        what = f"{where} invoices (include_historical_commit_invoices={historical})"
        invoices = _listed(
            census,
            what,
            lambda h=historical: client.v1.customers.invoices.list(
                customer_id=customer_id, limit=PAGE, include_historical_commit_invoices=h
            ),
        )
        _same_ids(
            census, what, invoices, [i for i in stored if historical or i["id"] not in hidden]
        )
    for invoice in stored:
        _read(
            census,
            f"{where} invoice {invoice['id']}",
            lambda i=invoice: (
                client.v1.customers.invoices.retrieve(
                    customer_id=customer_id, invoice_id=i["id"]
                ).data
            ),
            invoice["id"],
        )
    stored_contracts = [c for c in state.get("contracts", []) if c["customer_id"] == customer_id]
    for archived in (False, True):  # archived contracts are listed only on request
        what = f"{where} contracts (include_archived={archived})"
        contracts = _listed(
            census,
            what,
            lambda a=archived: client.v2.contracts.list(
                customer_id=customer_id, limit=CONTRACT_PAGE, include_archived=a
            ),
        )
        expected = [c for c in stored_contracts if archived or c.get("archived_at") is None]
        _same_ids(census, what, contracts, expected)
    for contract in stored_contracts:
        _read(
            census,
            f"{where} contract {contract['id']}",
            lambda c=contract: (
                client.v2.contracts.retrieve(customer_id=customer_id, contract_id=c["id"]).data
            ),
            contract["id"],
        )


def _walk_plans(client: metronome.Metronome, state: dict[str, Any], census: Census) -> None:
    plans = _listed(census, "plans", lambda: client.v1.plans.list(limit=PAGE))
    _same_ids(census, "plans", plans, state["plans"])
    for plan in state["plans"]:
        where = f"plan {plan['id']}"
        _read(
            census,
            where,
            lambda p=plan: client.v1.plans.get_details(plan_id=p["id"]).data,
            plan["id"],
        )
        charges = _listed(
            census,
            f"{where} charges",
            lambda p=plan: client.v1.plans.list_charges(plan_id=p["id"], limit=PAGE),
        )
        _same_ids(census, f"{where} charges", charges, plan["charges"])


def _listed(census: Census, what: str, first_page: Callable[[], Iterable[Any]]) -> list[Any]:
    """Every record of a listing, iterated the SDK's way (it follows the cursor itself)."""
    records: list[Any] = []
    try:
        for record in first_page():
            _validated(census, f"{what}[{len(records)}]", record)
            records.append(record)
    except metronome.APIError as error:
        census.problems += _sdk_error(f"{what} (after {len(records)} records)", error)
    return records


def _read(census: Census, what: str, read: Callable[[], Any], expected_id: str) -> None:
    try:
        record = read()
    except metronome.APIError as error:
        census.problems += _sdk_error(what, error)
        return
    _validated(census, what, record)
    if record.id != expected_id:
        census.problems.append(f"{what}: answered id {record.id}")


def _validated(census: Census, what: str, record: Any) -> None:
    census.validated(type(record), undeclared_fields(record, what))


def _sdk_error(what: str, error: metronome.APIError) -> list[str]:
    """The SDK's refusal as problems: each validation error with its path, else the error."""
    cause = error.__cause__
    if isinstance(error, metronome.APIResponseValidationError) and isinstance(
        cause, pydantic.ValidationError
    ):
        return [
            f"{what}: {'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
            for detail in cause.errors()
        ]
    return [f"{what}: {type(error).__name__}: {error}"]


def _same_ids(census: Census, what: str, listed: list[Any], expected: list[dict[str, Any]]) -> None:
    """The SDK's walk visited each expected record exactly once, and nothing else."""
    seen = Counter(record.id for record in listed)
    wanted = Counter(record["id"] for record in expected)
    if seen == wanted:
        return
    missing = sorted((wanted - seen).elements())
    extra = sorted((seen - wanted).elements())
    repeated = sorted(key for key, count in seen.items() if count > 1)
    census.problems.append(
        f"{what}: walked {len(listed)} of {len(expected)}; missing {missing}, "
        f"unexpected {extra}, repeated {repeated}"
    )
