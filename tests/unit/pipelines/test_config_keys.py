"""Unknown keys in billing-sync's sections, and TOML files dlt cannot read: named, with a
"did you mean" when one is close; dlt's own sections and other destinations left alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dlt
import pytest
from dlt.common.configuration.providers.toml import (
    SettingsTomlProvider,
    TomlProviderReadException,
)

from pipelines.config import (
    DATA_DIR,
    DESTINATION,
    MAPPING,
    SOURCES,
    ConfigError,
    load_duckdb_memory_limit,
    load_fincome_settings,
    load_mapping,
    load_metronome_settings,
)
from pipelines.config_keys import KeyPath, Namespace, config_problem, unreadable_file

SECRET = "tok-unit-5e1f2a9c"


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", SECRET)
    monkeypatch.setenv("DESTINATION__FINCOME__API_KEY", SECRET)


@pytest.fixture
def config_toml() -> Iterator[SettingsTomlProvider]:
    """The committed config.toml as dlt loaded it; values set in a test are undone after."""
    [provider] = [p for p in dlt.config.config_providers if p.name == "config.toml"]
    assert isinstance(provider, SettingsTomlProvider)
    with provider.preserve():
        yield provider


SUGGESTIONS: list[tuple[Namespace, KeyPath, KeyPath | None]] = [
    (SOURCES, ("sources", "metronome", "page_sise"), ("sources", "metronome", "page_size")),
    (SOURCES, ("sources", "metronom", "page_size"), ("sources", "metronome", "page_size")),
    (SOURCES, ("sources", "metronom"), ("sources", "metronome")),
    (SOURCES, ("sources", "metronome", "extra"), None),  # nothing close
    (SOURCES, ("sources", "metronom", "page_sise"), None),  # two typos are too far
    (MAPPING, ("mapping", "pricing_unit"), ("mapping", "pricing_units")),
    (MAPPING, ("mapping", "pricing_units", "ct_1"), ("mapping", "pricing_units")),
    (DATA_DIR, ("data_dir", "path"), None),
    (DATA_DIR, ("data_dir", "duckdb_memory_limt"), ("data_dir", "duckdb_memory_limit")),
]


@pytest.mark.parametrize(("namespace", "path", "suggested"), SUGGESTIONS)
def test_a_suggestion_is_one_close_name_away_or_the_key_it_nests_in(
    namespace: Namespace, path: KeyPath, suggested: KeyPath | None
) -> None:
    assert namespace.suggestion(path) == suggested


UNKNOWN_VARIABLES = [
    ("SOURCES__METRONOM__PAGE_SIZE", "did you mean SOURCES__METRONOME__PAGE_SIZE?"),
    ("SOURCES__PAGE_SIZE", "unknown setting"),
    ("MAPPING__PRICE_TYP", "did you mean MAPPING__PRICE_TYPE?"),
    ("MAPPING__LINE_TYPES__PROD_1", "did you mean MAPPING__LINE_TYPES?"),
    ("DESTINATION__FINCOM__API_KEY", "did you mean DESTINATION__FINCOME__API_KEY?"),
    ("DESTINATION__FINCOME__PATH", "did you mean DESTINATION__FINCOME__PATHS?"),
    ("DESTINATION__FINCOME__BATCH_SIZE", "unknown setting"),  # no batches: one push per load
    ("DATA_DIR__DUCKDB_MEMORY_LIMT", "did you mean DATA_DIR__DUCKDB_MEMORY_LIMIT?"),
]


@pytest.mark.parametrize(("variable", "says"), UNKNOWN_VARIABLES)
def test_an_unknown_variable_is_named_by_the_loader_of_its_section(
    monkeypatch: pytest.MonkeyPatch, variable: str, says: str
) -> None:
    monkeypatch.setenv(variable, "1")
    loader = LOADERS[variable.split("__", maxsplit=1)[0]]

    with pytest.raises(ConfigError) as raised:
        loader()

    assert raised.value.key == variable
    assert says in str(raised.value)
    assert SECRET not in str(raised.value)


LOADERS: dict[str, Callable[[], Any]] = {
    "SOURCES": load_metronome_settings,
    "MAPPING": load_mapping,
    "DESTINATION": load_fincome_settings,
    "DATA_DIR": lambda: load_duckdb_memory_limit(2**30),
}


@pytest.mark.parametrize(
    "variable",
    [
        "DESTINATION__FINCOME__LEDGER_PATH",  # the fincome() destination reads it
        "DESTINATION__FINCOME__DESTINATION_NAME",
        "DESTINATION__DUCKDB__CREDENTIALS",  # another destination: dlt's, not ours
        "DESTINATION__POSTGRES__CREDENTIALS",
    ],
)
def test_what_dlt_reads_and_other_destinations_are_not_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "1")
    namespace = SOURCES if variable.startswith("SOURCES") else DESTINATION
    assert config_problem(namespace) is None


def test_the_committed_config_has_no_unknown_key() -> None:
    for namespace in (SOURCES, DESTINATION, MAPPING, DATA_DIR):
        assert config_problem(namespace) is None


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (
            ("sources", "metronome", "page_sise"),
            5,
            ("SOURCES__METRONOME__PAGE_SISE", "page_sise under [sources.metronome] in "),
        ),
        (("mapping", "pricing_unit"), {"ct": {}}, ("MAPPING__PRICING_UNIT", "pricing_units?")),
        (("sources", "metronom"), {"page_size": 5}, ("SOURCES__METRONOM", "metronome?")),
        (("sources", "metronome", "metronome"), {}, ("SOURCES__METRONOME__METRONOME", "[sources")),
    ],
)
def test_an_unknown_key_or_table_in_a_toml_file_is_named_with_its_file(
    config_toml: SettingsTomlProvider,
    path: tuple[str, ...],
    value: object,
    named: tuple[str, str],
) -> None:
    config_toml.set_value(path[-1], value, None, *path[:-1])
    namespace = {"sources": SOURCES, "mapping": MAPPING}[path[0]]

    found = config_problem(namespace)

    assert found is not None
    key, says = named
    assert found.key == key
    assert says in found.problem
    assert config_toml.present_locations[0] in found.problem


@pytest.mark.parametrize(
    ("sections", "key", "value"),
    [
        (("mapping",), "pricing_units", {"any-credit-type-id": {"currency": "USD"}}),
        (("destination", "fincome"), "paths", {"customers": "/clients"}),
        (("destination", "duckdb"), "anything", 1),
        (("metronome_extract", "sources", "metronome"), "anything", 1),  # a pipeline's section
        (("runtime",), "anything", 1),
    ],
)
def test_ids_inside_known_tables_and_sections_of_dlt_are_not_looked_at(
    config_toml: SettingsTomlProvider, sections: tuple[str, ...], key: str, value: object
) -> None:
    config_toml.set_value(key, value, None, *sections)
    for namespace in (SOURCES, DESTINATION, MAPPING, DATA_DIR):
        assert config_problem(namespace) is None


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("config.toml", "[a]\nx = = 1\n", r"not valid TOML at line 2, column 5: Unexpected .*"),
        # tomlkit's own words would quote the Z after the secret: only the position is given
        ("secrets.toml", f'[a]\nx = "{SECRET}"Z\n', r"not valid TOML at line 2, column 24"),
        ("secrets.toml", f'x = "{SECRET}\n', r"not valid TOML at line \d+, column \d+"),
    ],
)
def test_an_unreadable_file_is_named_with_its_line_and_nothing_of_a_secrets_file(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    fine, broken = tmp_path / "project" / name, tmp_path / "global" / name
    fine.parent.mkdir()
    fine.write_text("[a]\nx = 1\n")
    broken.parent.mkdir()
    broken.write_text(text)
    error = TomlProviderReadException(name, name, [str(fine), str(broken)], "whatever dlt says")

    found = unreadable_file(error)

    assert found.key == str(broken)
    assert re.fullmatch(problem, found.problem), found.problem
