"""Metronome settings: defaults from .dlt/config.toml, env overrides, errors naming the key."""

from __future__ import annotations

import pytest

from pipelines.config import ConfigError, load_metronome_settings
from sources.metronome import MetronomeSettings, metronome_source

TOKEN = "tok-abc-123"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__API_TOKEN", TOKEN)


def load_error() -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        load_metronome_settings()
    return raised.value


@pytest.mark.usefixtures("token")
def test_defaults_come_from_the_committed_config() -> None:
    settings = load_metronome_settings()
    assert settings == MetronomeSettings(api_token=TOKEN)
    assert settings.base_url == "https://api.metronome.com"
    assert settings.requests_per_second == 8.0
    assert TOKEN not in repr(settings)


@pytest.mark.usefixtures("token")
def test_environment_variables_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("SOURCES__METRONOME__LOOKBACK_DAYS", "90")
    monkeypatch.setenv("SOURCES__METRONOME__REQUESTS_PER_SECOND", "0")
    settings = load_metronome_settings()
    assert (settings.base_url, settings.lookback_days) == ("http://127.0.0.1:8080", 90)
    assert settings.requests_per_second == 0


def test_a_missing_token_names_its_variable() -> None:
    error = load_error()
    assert error.key == "SOURCES__METRONOME__API_TOKEN"
    assert str(error).startswith("SOURCES__METRONOME__API_TOKEN: not set")


@pytest.mark.usefixtures("token")
@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("PAGE_SIZE", "abc", "must be an integer"),
        ("PAGE_SIZE", "0", "must be between 1 and 100"),
        ("MAX_CONCURRENCY", "0", "must be 1 or more"),
        ("REQUESTS_PER_SECOND", "fast", "must be a number"),
        ("ALLOW_INSECURE_HTTP", "perhaps", "must be true or false"),
        ("BASE_URL", "http://api.metronome.com", "plain http:// is only allowed for loopback"),
        ("BASE_URL", "metronome", "must be an absolute http(s) URL"),
    ],
)
def test_bad_values_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(f"SOURCES__METRONOME__{name}", value)
    error = load_error()
    assert error.key == f"SOURCES__METRONOME__{name}"
    assert problem in str(error)
    assert TOKEN not in str(error)


@pytest.mark.usefixtures("token")
def test_insecure_http_can_be_allowed_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__METRONOME__BASE_URL", "http://metronome.internal")
    monkeypatch.setenv("SOURCES__METRONOME__ALLOW_INSECURE_HTTP", "true")
    assert load_metronome_settings().base_url == "http://metronome.internal"


def test_an_empty_token_is_a_problem() -> None:
    assert MetronomeSettings(api_token="  ").problems() == {"api_token": "must not be empty"}


def test_the_source_types_only_hinted_columns() -> None:
    # found by fuzzing: dlt took a name like "0001-01-01T00:00:00+14:00" for a timestamp
    source = metronome_source(MetronomeSettings(api_token=TOKEN))
    assert "iso_timestamp" not in source.schema.settings.get("detections", [])
