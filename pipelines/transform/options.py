"""The mapping's options: the `[mapping]` section of `.dlt/config.toml`, typed and validated.

The options type knows nothing of dlt; `pipelines.transform.config.load_mapping_options`
reads the section through dlt and hands it to `mapping_options`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from pipelines.transform.currencies import ISO_4217_EXPONENTS

LineType = Literal["subscription", "one_off"]
# Fincome's price `type` has no published enum (reference/fincome-api.md, "Price type": its
# Chargebee mapping syncs a price type; plans are recurring, one-off products have none), so
# these are the two its own wording supports. Any other value was sent as given and rewrote
# every price in Fincome (`MAPPING__PRICE_TYPE=weird`).
PriceType = Literal["recurring", "one_off"]


class MappingConfigError(ValueError):
    """A `[mapping]` key holds a value the mapping cannot use; the message names the key."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key  # the top-level setting, e.g. `mapping.pricing_units`


class PricingUnit(BaseModel):
    """How a custom pricing unit converts: 1 unit = `factor` `currency`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str
    factor: Decimal = Field(gt=0, lt=Decimal(10) ** 12)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        if code not in ISO_4217_EXPONENTS:
            raise ValueError(f"{code!r} is not an ISO 4217 currency code")
        return code

    @field_validator("factor")
    @classmethod
    def _plain_factor(cls, factor: Decimal) -> Decimal:
        exponent = factor.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -20 or len(factor.as_tuple().digits) > 30:
            raise ValueError("factor needs at most 30 digits and 20 decimal places")
        return factor


class MappingOptions(BaseModel):
    """Every choice of the Metronome -> Fincome mapping that a deployment may change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email_field: str = Field(default="email", min_length=1)
    country_field: str = Field(default="country", min_length=1)
    zip_code_field: str = Field(default="zip_code", min_length=1)
    price_type: PriceType = "recurring"
    credit_note_sign: Literal["negative", "positive"] = "negative"
    consolidated_invoices: Literal["skip", "keep"] = "skip"
    # `billable_status: unbillable` invoices are not revenue: skipped (and counted) unless kept
    keep_unbillable_invoices: bool = False
    ad_hoc_line_type: LineType = "one_off"
    minimum_line_type: LineType = "subscription"
    pricing_units: dict[str, PricingUnit] = Field(default_factory=dict)
    line_types: dict[str, LineType] = Field(default_factory=dict)
    plan_period_months: dict[str, int] = Field(default_factory=dict)

    @field_validator("plan_period_months")
    @classmethod
    def _positive_months(cls, months: dict[str, int]) -> dict[str, int]:
        bad = sorted(plan for plan, count in months.items() if not 1 <= count <= 120)
        if bad:
            raise ValueError(f"months must be 1..120 (plans {', '.join(bad)})")
        return months


def mapping_options(section: Mapping[str, Any]) -> MappingOptions:
    """Validate a `[mapping]` section; `MappingConfigError` names the first bad key."""
    try:
        return MappingOptions.model_validate(dict(section))
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(["mapping", *(str(part) for part in first["loc"])])
        top = ".".join(key.split(".")[:2])
        raise MappingConfigError(f"{key}: {_explained(first)}", key=top) from None


def _explained(error: ErrorDetails) -> str:
    """pydantic's message; for a choice, what was given and the closest choice."""
    if error["type"] != "literal_error":
        return error["msg"]
    given = error["input"]
    choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
    close = difflib.get_close_matches(str(given), choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{error['msg']}, not {given!r}{hint}"
