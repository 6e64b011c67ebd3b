"""Metronome defaults, endpoints and the column hints of every staged table.

The hints keep money exact and shapes stable: top-level amounts are `decimal` (never DOUBLE),
timestamps are `timestamp`, nested objects and lists are `json` even when the first row seen
holds `null` (so a later object never becomes a variant column). Fields not listed here are
still staged: dlt adds a column for each unknown field a newer API sends.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.data_types import TDataType
from dlt.common.schema import Schema
from dlt.common.schema.typing import TColumnSchema
from dlt.common.typing import TSecretStrValue

from httpkit import InsecureBaseURLError, check_base_url
from httpkit.headers import credential_problem

SECTIONS = ("sources", "metronome")  # where dlt reads the settings; the source's own section
BASE_URL_KEY = "SOURCES__METRONOME__BASE_URL"
DEFAULT_BASE_URL = "https://api.metronome.com"
MAX_PAGE_SIZE = 100  # Metronome caps `limit` at 100 on every list endpoint

CUSTOMERS_PATH = "/v1/customers"
CUSTOMER_PLANS_PATH = "/v1/customers/{customer_id}/plans"
INVOICES_PATH = "/v1/customers/{customer_id}/invoices"
PLANS_PATH = "/v1/plans"
PLAN_DETAILS_PATH = "/v1/planDetails/{plan_id}"
PLAN_CHARGES_PATH = "/v1/planDetails/{plan_id}/charges"
CREDIT_TYPES_PATH = "/v1/credit-types/list"
CONTRACTS_PATH = "/v2/contracts/list"  # POST, body cursor (paging.BODY_CURSOR)
CUSTOMER_IDS_PER_REQUEST = 100  # `customer_ids` filter of the customer list takes at most 100

# Options sent with every contract list (the body of `POST /v2/contracts/list`), besides
# `customer_id`, `limit` and `cursor`. Every contract is read on every run (a customer has a
# handful, one page of 20 usually): no `starting_at` / `covering_date` filter.
# - `include_archived`: an archived contract still owns the invoices it billed, and staging
#   merges by id and never deletes: without it, a contract archived after it was staged
#   would stay staged as live forever. With it, archiving is an update (`archived_at` set).
# - `include_balance` / `include_ledgers` are left out (false): the SDK warns they make the
#   answer slower, balances and ledgers move with every usage event (every contract row
#   would change on every run), and the money billing-sync maps comes from invoices.
CONTRACT_LIST_OPTIONS = {"include_archived": True}
# Options sent with every invoice list, besides the billing window (`cursors.py`).
# `include_historical_commit_invoices` is stated, false (the SDK's documented default:
# "When true, includes historical commit invoices alongside active invoices"): Fincome gets
# the invoices Metronome bills through its active invoicing; historical commit invoices
# record commit billing from before or outside it (a commit imported with its past invoice
# schedule), which counted as revenue again would duplicate what the account already billed.
# Sent explicitly so that a change of Metronome's default cannot add invoices unnoticed.
INVOICE_LIST_OPTIONS = {"include_historical_commit_invoices": "false"}

# A century reads every invoice there is; far beyond it, `period start - lookback` falls
# before year 1 and the extract died on an OverflowError.
MAX_LOOKBACK_DAYS = 36_500
# A run holds the data-dir lock while it waits: a request allowed more than a day would block
# every scheduled run for that long, surely milliseconds typed as seconds (and above about
# 1e10 s httpx itself overflows).
MAX_SECONDS = 86_400.0
# The paths above already start with the version: a base URL ending in it doubled it (404).
_VERSION_SUFFIX = re.compile(r"/v\d+/*$")


@configspec
class MetronomeSettings(BaseConfiguration):
    """Everything needed to talk to Metronome, declared once: field names are the keys of
    `[sources.metronome]` (`SOURCES__METRONOME__<FIELD>`), which dlt resolves (`resolve`).

    `requests_per_second = 0` turns client-side pacing off (for local emulators). The token
    is typed secret: dlt then reads it only from secrets (never config.toml) and its trace
    keeps no value (asked as a plain `str`, dlt's trace.pickle kept it in clear).
    """

    api_token: TSecretStrValue = None  # type: ignore[assignment]  # dlt: a required secret
    base_url: str = DEFAULT_BASE_URL
    page_size: int = MAX_PAGE_SIZE
    lookback_days: int = 45
    requests_per_second: float = 8.0
    max_concurrency: int = 4
    timeout_seconds: float = 60.0
    max_attempts: int = 8
    retry_budget_seconds: float = 120.0
    allow_insecure_http: bool = False

    def __repr__(self) -> str:  # never show the token, even in a debugger or a traceback
        shown = ", ".join(f"{name}={self[name]!r}" for name in self if name != "api_token")
        return f"MetronomeSettings(api_token=***, {shown})"

    def on_resolved(self) -> None:
        """dlt calls it once every value is read: the token loses surrounding whitespace (a
        secret mounted from a file ends in a newline, which httpx refused quoting the secret),
        then the first unusable value is a `SettingsProblem`."""
        if self.api_token is None:  # built by hand without one: dlt reports a missing secret
            raise SettingsProblem("api_token", "not set")
        self.api_token = self.api_token.strip()
        if problems := self.problems():
            raise SettingsProblem(*next(iter(problems.items())))

    def problems(self) -> dict[str, str]:
        """Invalid fields and why, by field name; empty when the settings are usable.

        No problem quotes the token, only the position of a character that cannot be sent.
        """
        checks: dict[str, str | None] = {
            "api_token": _token_problem(self.api_token),
            "base_url": _base_url_problem(self.base_url, self.allow_insecure_http),
            "page_size": _unless(1 <= self.page_size <= MAX_PAGE_SIZE, "must be between 1 and 100"),
            "lookback_days": _unless(
                0 <= self.lookback_days <= MAX_LOOKBACK_DAYS,
                f"must be between 0 and {MAX_LOOKBACK_DAYS} (use --full-refresh to read all)",
            ),
            "requests_per_second": _unless(
                math.isfinite(self.requests_per_second) and self.requests_per_second >= 0,
                "must be 0 (off) or a finite number more than 0",
            ),
            "max_concurrency": _unless(self.max_concurrency >= 1, "must be 1 or more"),
            "timeout_seconds": _seconds_problem(self.timeout_seconds),
            "max_attempts": _unless(self.max_attempts >= 1, "must be 1 or more"),
            "retry_budget_seconds": _seconds_problem(self.retry_budget_seconds),
        }
        return {name: problem for name, problem in checks.items() if problem}


def resolve(settings: MetronomeSettings | None = None) -> MetronomeSettings:
    """`settings` (default: all from configuration) with what it leaves unset read from
    `[sources.metronome]`, checked; dlt's exceptions, or a `SettingsProblem`, when unusable."""
    return resolve_configuration(settings or MetronomeSettings(), sections=SECTIONS)


class SettingsProblem(ValueError):
    """A value no request can use; `key` is its field (the config key)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key} {problem}")
        self.key = key
        self.problem = problem


def _unless(ok: bool, problem: str) -> str | None:
    return None if ok else problem


def _token_problem(token: str) -> str | None:
    if not token.strip():
        return "must not be empty"
    problem = credential_problem(token)
    return f"{problem}; secrets are sent as an HTTP header" if problem else None


def _base_url_problem(base_url: str, allow_insecure_http: bool) -> str | None:
    try:
        check_base_url(base_url, key=BASE_URL_KEY, allow_insecure_http=allow_insecure_http)
    except InsecureBaseURLError as exc:
        return str(exc).removeprefix(f"{exc.key}: ")
    parts = urlsplit(base_url)
    version = _VERSION_SUFFIX.search(parts.path)
    if version is None:
        return None
    root = parts._replace(path=parts.path[: version.start()], query="", fragment="").geturl()
    return (
        f"must not end in {version.group().rstrip('/')}: our paths already start with /v1; "
        f"use {root}"
    )


def _seconds_problem(seconds: float) -> str | None:
    if math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS:
        return None
    return f"must be a number of seconds more than 0 and at most {MAX_SECONDS:.0f}"


def _hints(data_type: TDataType, *names: str) -> dict[str, TColumnSchema]:
    return {name: {"data_type": data_type, "nullable": True} for name in names}


# Fields documented as strings are hinted too: the first value dlt sees would otherwise type
# the column (a number makes it numeric, and text such as "-1e30" that dlt then coerces to a
# number fails the load).
CUSTOMER_COLUMNS = {
    **_hints("text", "external_id"),
    **_hints("timestamp", "created_at", "updated_at", "archived_at"),
    **_hints("json", "ingest_aliases", "custom_fields", "customer_config"),
    **_hints("json", "current_billable_status"),
}
CUSTOMER_PLAN_COLUMNS = {
    **_hints("text", "customer_id", "plan_name", "plan_description"),
    **_hints("timestamp", "starting_on", "ending_before"),
    **_hints("decimal", "net_payment_terms_days"),
    **_hints("json", "custom_fields", "trial_info"),
}
PLAN_COLUMNS = {
    **_hints("text", "name", "description"),
    **_hints("json", "custom_fields", "minimums", "overage_rates", "credit_grants"),
}
PLAN_CHARGE_COLUMNS = {
    **_hints("text", "plan_id", "name", "charge_type", "product_id", "product_name"),
    **_hints("decimal", "quantity", "start_period", "tier_reset_frequency"),
    **_hints("json", "credit_type", "custom_fields", "prices", "unit_conversion"),
}
CREDIT_TYPE_COLUMNS = {
    **_hints("text", "name"),
    **_hints("bool", "is_currency"),
}
INVOICE_COLUMNS = {
    **_hints("text", "type", "plan_id", "plan_name", "contract_id", "amendment_id"),
    **_hints("text", "netsuite_sales_order_id", "salesforce_opportunity_id"),
    **_hints("decimal", "total", "subtotal", "net_payment_terms_days"),
    **_hints("timestamp", "start_timestamp", "end_timestamp", "issued_at", "created_at"),
    **_hints("json", "credit_type", "line_items", "invoice_adjustments", "custom_fields"),
    **_hints("json", "plan_custom_fields", "contract_custom_fields", "customer_custom_fields"),
    **_hints("json", "external_invoice", "revenue_system_invoices", "correction_record"),
    **_hints("json", "constituent_invoices", "payer", "reseller_royalty"),
    # no hint for `billable_status`: the SPEC makes it a string, the SDK an object, and a
    # JSON column holds only objects and lists (see records.py)
}

# ContractV2 (`metronome/types/shared/contract_v2.py`): every nested object and list whole,
# as JSON (subscriptions, commits, credits, scheduled charges...).
CONTRACT_COLUMNS = {
    **_hints("text", "customer_id", "name", "rate_card_id", "created_by", "uniqueness_key"),
    **_hints("text", "netsuite_sales_order_id", "salesforce_opportunity_id"),
    **_hints("text", "multiplier_override_prioritization", "scheduled_charges_on_usage_invoices"),
    **_hints("timestamp", "starting_at", "ending_before", "created_at", "archived_at"),
    **_hints("decimal", "net_payment_terms_days", "priority", "total_contract_value"),
    **_hints("json", "subscriptions", "commits", "credits", "scheduled_charges", "discounts"),
    **_hints("json", "recurring_commits", "recurring_credits", "overrides", "transitions"),
    **_hints("json", "usage_filter", "usage_statement_schedule", "custom_fields", "has_more"),
    **_hints("json", "hierarchy_configuration", "professional_services", "reseller_royalties"),
    **_hints("json", "billing_provider_configuration_schedule", "spend_trackers"),
    **_hints("json", "customer_billing_provider_configuration"),
    **_hints("json", "revenue_system_configuration_schedule"),
    **_hints("json", "prepaid_balance_threshold_configuration", "spend_threshold_configuration"),
}


def type_hinted_columns_only(schema: Schema) -> None:
    """Turn off dlt's guessing of timestamps in text it has no hint for.

    With it on, a field such as a customer's `name` that first arrives as
    "2024-03-01T00:00:00Z" becomes a timestamp column and every later name lands in a
    variant column (read back as null); "0001-01-01T00:00:00+14:00" fails the load, and the
    pending package every later run. Found by fuzzing the record checks.
    """
    schema.remove_type_detection("iso_timestamp")
