"""`[mapping]` options: typed, validated, errors naming the key; loaded through dlt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.transform.config import load_mapping_options
from pipelines.transform.options import MappingConfigError, MappingOptions, mapping_options


def test_the_committed_config_gives_the_documented_defaults() -> None:
    assert load_mapping_options() == MappingOptions()


def test_env_vars_override_single_keys_and_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPING__CREDIT_NOTE_SIGN", "positive")
    monkeypatch.setenv(
        "MAPPING__PRICING_UNITS", '{"ct-credits": {"currency": "EUR", "factor": "0.25"}}'
    )
    options = load_mapping_options()
    assert options.credit_note_sign == "positive"
    assert options.pricing_units["ct-credits"].factor == Decimal("0.25")


def test_a_table_that_is_not_json_names_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPING__LINE_TYPES", "{not json")
    with pytest.raises(MappingConfigError, match=r"^mapping.line_types:"):
        load_mapping_options()


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"credit_note_sign": "sideways"}, "mapping.credit_note_sign"),
        ({"price_type": ""}, "mapping.price_type"),
        ({"line_types": {"prod": "usage"}}, "mapping.line_types.prod"),
        ({"pricing_units": {"u": {"currency": "XXX1", "factor": 1}}}, "mapping.pricing_units.u"),
        ({"pricing_units": {"u": {"currency": "EUR", "factor": 0}}}, "mapping.pricing_units.u"),
        ({"pricing_units": {"u": {"currency": "EUR"}}}, "mapping.pricing_units.u.factor"),
        ({"plan_period_months": {"p": 0}}, "mapping.plan_period_months"),
        ({"unknown_key": 1}, "mapping.unknown_key"),
    ],
)
def test_bad_values_are_refused_naming_the_key(section: dict[str, object], key: str) -> None:
    with pytest.raises(MappingConfigError, match=f"^{key}"):
        mapping_options(section)


def test_options_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        MappingOptions().price_type = "one_off"  # type: ignore[misc]
