"""Contract record checks: a ContractV2 the SDK accepts is staged; a malformed one is set
aside with its reason; one naming another customer than its list is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from metronome.types.shared.contract_v2 import ContractV2

from sources.metronome.records import ExtractReject, check_record, split_valid
from tests.unit.transform.contracts import EMPTY_CONTRACT_TERMS


def contract(**changes: Any) -> dict[str, Any]:
    """A contract as `POST /v2/contracts/list` sends it (every field the SDK requires)."""
    record: dict[str, Any] = {
        "id": "con-1",
        "customer_id": "cus-1",
        "starting_at": "2026-01-01T00:00:00Z",
        "ending_before": "2027-01-01T00:00:00Z",
        "created_at": "2025-12-20T10:00:00Z",
        "created_by": "ops@example.com",
        **EMPTY_CONTRACT_TERMS,
        "usage_statement_schedule": {
            "billing_anchor_date": "2026-01-01T00:00:00Z",
            "frequency": "MONTHLY",
        },
        "total_contract_value": Decimal("12000"),
        "custom_fields": {"region": "EU"},
    }
    for name, value in changes.items():
        if value is ...:
            del record[name]
        else:
            record[name] = value
    return record


def test_a_contract_the_sdk_accepts_passes() -> None:
    ContractV2.model_validate(contract())  # the fixture is the wire format
    assert check_record("contracts", contract(archived_at=None, brand_new={"x": 1})) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": ...}, "missing id"),
        ({"customer_id": ...}, "missing customer_id"),
        ({"starting_at": ...}, "missing starting_at"),
        ({"starting_at": "next monday"}, 'starting_at is "next monday", expected an RFC 3339'),
        ({"id": ""}, 'id is "", expected a non-empty string'),
        ({"ending_before": 20270101}, "ending_before is 20270101, expected an RFC 3339"),
        ({"subscriptions": "seats"}, 'subscriptions is "seats", expected an object or a list'),
        ({"commits": 3}, "commits is 3, expected an object or a list"),
        ({"total_contract_value": "lots"}, 'total_contract_value is "lots", expected a finite'),
        ({"name": 7}, "name is 7, expected a string"),
    ],
)
def test_broken_contracts_are_explained(changes: dict[str, Any], reason: str) -> None:
    problem = check_record("contracts", contract(**changes))
    assert problem is not None
    assert problem.startswith(reason)


def test_a_contract_naming_another_customer_than_its_list_is_refused() -> None:
    rejects: list[ExtractReject] = []
    listed = [contract(), contract(id="con-2", customer_id="cus-2")]

    valid, rejected = split_valid("contracts", listed, rejects.append, listed_under="cus-1")

    assert [c["id"] for c in valid] == ["con-1"]
    assert rejected == 1
    assert rejects[0].collection == "contracts"
    assert rejects[0].record_id == "con-2"
    assert rejects[0].reason == 'customer_id is "cus-2", but it was listed under "cus-1"'
