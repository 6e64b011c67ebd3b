"""The settings types judge their values; the loaders strip secrets and name the variable.

Secrets must be visible ASCII (they are sent as a header), header names RFC 9110 tokens,
every float knob finite, a Metronome base URL without the version its paths already carry,
and mapping choices one of their values. No problem ever quotes a secret.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from destinations.fincome import FincomeSettings
from httpkit.headers import credential_problem, field_name_problem
from pipelines.config import (
    ConfigError,
    load_fincome_settings,
    load_mapping,
    load_metronome_settings,
)
from pipelines.logs import redact
from sources.metronome import MetronomeSettings, metronome_source

VISIBLE_ASCII = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)


@given(VISIBLE_ASCII)
def test_visible_ascii_is_a_usable_credential(value: str) -> None:
    assert credential_problem(value) is None


@given(VISIBLE_ASCII, st.characters(blacklist_categories=()), VISIBLE_ASCII)
def test_any_other_character_is_named_by_code_point_and_position_never_quoted(
    before: str, odd: str, after: str
) -> None:
    if "!" <= odd <= "~":
        return
    value = before + odd + after
    problem = credential_problem(value)
    assert problem is not None
    assert f"(U+{ord(odd):04X} at position {len(before) + 1})" in problem
    assert value not in problem
    assert before + odd not in problem


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("X-API-KEY", None),
        ("x-api-key", None),
        ("Api_Key!#$%&'*+-.^`|~", None),
        ("", "is empty"),
        ("X API KEY", "holds a space at position 2"),
        ("X-API-KEY:", "holds ':' at position 10"),
        ("X-Clé", "holds a non-ASCII character at position 5"),
        ("X-Key\r\n", "holds a control character at position 6"),
    ],
)
def test_a_header_name_is_an_rfc_9110_token(name: str, problem: str | None) -> None:
    found = field_name_problem(name)
    assert found == problem if problem is None else problem in (found or "")


TOKEN = "mtok-unit-8c1d3e70"
INF, NAN = float("inf"), float("nan")

METRONOME_PROBLEMS: list[tuple[dict[str, Any], str, str]] = [
    ({"api_token": f"{TOKEN}\n"}, "api_token", "control character (U+000A at position 19)"),
    ({"api_token": "mtok é"}, "api_token", "a space (U+0020 at position 5)"),
    ({"api_token": " \n"}, "api_token", "must not be empty"),
    ({"timeout_seconds": INF}, "timeout_seconds", "at most 86400"),
    ({"timeout_seconds": NAN}, "timeout_seconds", "more than 0"),
    ({"timeout_seconds": 1e10}, "timeout_seconds", "at most 86400"),
    ({"retry_budget_seconds": INF}, "retry_budget_seconds", "at most 86400"),
    ({"requests_per_second": INF}, "requests_per_second", "finite"),
    ({"requests_per_second": NAN}, "requests_per_second", "finite"),
    ({"lookback_days": 10**9}, "lookback_days", "between 0 and 36500"),
    ({"base_url": "https://api.metronome.com/v1"}, "base_url", "use https://api.metronome.com"),
    ({"base_url": "https://proxy.example/metronome/v2/"}, "base_url", "must not end in /v2"),
]


@pytest.mark.parametrize(("fields", "name", "problem"), METRONOME_PROBLEMS)
def test_metronome_settings_name_each_unusable_field(
    fields: dict[str, Any], name: str, problem: str
) -> None:
    settings = MetronomeSettings(**{"api_token": TOKEN, **fields})
    problems = settings.problems()
    assert list(problems) == [name]
    assert problem in problems[name]
    assert TOKEN not in problems[name]


def test_the_source_refuses_them_too_without_the_token() -> None:
    with pytest.raises(ValueError, match="api_token holds a control character") as raised:
        metronome_source(MetronomeSettings(api_token=f"{TOKEN}\nmore"))
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"api_key": f"{TOKEN}\nx"}, "destination.fincome.api_key holds a control character"),
        ({"api_key_header": "X API KEY"}, "destination.fincome.api_key_header 'X API KEY' is"),
        ({"timeout_seconds": INF}, "destination.fincome.timeout_seconds must be a finite"),
        ({"requests_per_second": NAN}, "destination.fincome.requests_per_second must be a"),
        ({"retry_budget_seconds": 1e9}, "destination.fincome.retry_budget_seconds must be at"),
    ],
)
def test_fincome_settings_refuse_them_naming_the_key(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=r"^destination\.fincome\.") as raised:
        FincomeSettings(**{"api_key": TOKEN, **fields}).resolve()
    assert str(raised.value).startswith(problem)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("raw", [f"{TOKEN}\n", f"  {TOKEN}\r\n", f"\t{TOKEN} "])
def test_a_secret_is_loaded_without_surrounding_whitespace_and_masked(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", raw)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", raw)

    assert load_metronome_settings().api_token == TOKEN
    assert load_fincome_settings().api_key == TOKEN
    assert TOKEN not in redact(f"sent {raw!r} and {TOKEN}")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SOURCES__METRONOME__API_TOKEN", f"{TOKEN}\nmore", "SOURCES__METRONOME__API_TOKEN: holds"),
        ("DESTINATION__FINCOME__API_KEY", f"é{TOKEN}", "DESTINATION__FINCOME__API_KEY: holds a"),
        ("DESTINATION__FINCOME__API_KEY_HEADER", "X-Key:", "_API_KEY_HEADER: 'X-Key:' is not"),
        ("SOURCES__METRONOME__TIMEOUT_SECONDS", "inf", "SOURCES__METRONOME__TIMEOUT_SECONDS: "),
        ("DESTINATION__FINCOME__TIMEOUT_SECONDS", "nan", "__TIMEOUT_SECONDS: must be a finite"),
        ("SOURCES__METRONOME__BASE_URL", "http://127.0.0.1:8/v1", "use http://127.0.0.1:8"),
    ],
)
def test_the_loaders_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", TOKEN)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", TOKEN)
    monkeypatch.setenv(variable, value)
    load = load_metronome_settings if variable.startswith("SOURCES") else load_fincome_settings

    with pytest.raises(ConfigError) as raised:
        load()

    assert raised.value.key == variable
    assert says in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MAPPING__PRICE_TYPE", "weird", "'recurring' or 'one_off', not 'weird'"),
        ("MAPPING__PRICE_TYPE", "one-off", "(did you mean 'one_off'?)"),
        ("MAPPING__CREDIT_NOTE_SIGN", "negatif", "(did you mean 'negative'?)"),
        ("MAPPING__CONSOLIDATED_INVOICES", "kept", "(did you mean 'keep'?)"),
        ("MAPPING__AD_HOC_LINE_TYPE", "subscriptions", "(did you mean 'subscription'?)"),
        ("MAPPING__MINIMUM_LINE_TYPE", "usage", "'subscription' or 'one_off', not 'usage'"),
        ("MAPPING__LINE_TYPES", '{"prod_1": "oneoff"}', "(did you mean 'one_off'?)"),
        ("MAPPING__EMAIL_FIELD", "", "at least 1 character"),
    ],
)
def test_a_mapping_choice_takes_only_its_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError) as raised:
        load_mapping()

    assert raised.value.key == variable
    assert says in str(raised.value)
