"""Every record `/_emulator/state` holds, checked against the SDK model it is served as.

A state key this table does not know is itself a problem: a new kind of record the emulator
starts serving must be given its SDK model here before the ring passes again.
"""

from __future__ import annotations

from typing import Any

from metronome._models import BaseModel
from metronome.types.shared.contract_v2 import ContractV2
from metronome.types.v1.customer_detail import CustomerDetail
from metronome.types.v1.customers.invoice import Invoice
from metronome.types.v1.customers.plan_list_response import PlanListResponse as CustomerPlan
from metronome.types.v1.plan_detail import PlanDetail
from metronome.types.v1.plan_list_charges_response import PlanListChargesResponse
from metronome.types.v1.pricing_unit_list_response import PricingUnitListResponse

from tests.conformance.census import Census
from tests.conformance.shapes import record_problems

# the state's lists of records, each as the endpoint that serves them
LISTS: dict[str, type[BaseModel]] = {
    "credit_types": PricingUnitListResponse,  # GET /v1/credit-types/list
    "customers": CustomerDetail,  # GET /v1/customers
    "invoices": Invoice,  # GET /v1/customers/{id}/invoices
    "contracts": ContractV2,  # POST /v2/contracts/list
}
NOT_RECORDS = {"settings", "regenerated"}  # the account's settings, {voided id: new id}


def state_census(state: dict[str, Any]) -> Census:
    """Each record of the state validated against its SDK model."""
    census = Census()
    for key, records in state.items():
        if key in LISTS:
            for index, record in enumerate(records):
                census.validated(LISTS[key], record_problems(LISTS[key], record, f"{key}[{index}]"))
        elif key == "plans":
            _plans(census, records)
        elif key == "customer_plans":
            _customer_plans(census, records)
        elif key not in NOT_RECORDS:
            census.problems.append(f"{key}: a state key the ring has no SDK model for")
    return census


def _plans(census: Census, plans: list[dict[str, Any]]) -> None:
    """A plan is its details (GET /v1/planDetails/{id}) plus its charges (.../charges)."""
    for index, plan in enumerate(plans):
        details = {key: value for key, value in plan.items() if key != "charges"}
        census.validated(PlanDetail, record_problems(PlanDetail, details, f"plans[{index}]"))
        for position, charge in enumerate(plan.get("charges", [])):
            path = f"plans[{index}].charges[{position}]"
            census.validated(
                PlanListChargesResponse, record_problems(PlanListChargesResponse, charge, path)
            )


def _customer_plans(census: Census, by_customer: dict[str, list[dict[str, Any]]]) -> None:
    """GET /v1/customers/{id}/plans, by customer id."""
    for customer_id, plans in by_customer.items():
        for index, plan in enumerate(plans):
            path = f"customer_plans[{customer_id}][{index}]"
            census.validated(CustomerPlan, record_problems(CustomerPlan, plan, path))
