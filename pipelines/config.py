"""Settings from dlt's configuration (environment over `.dlt/*.toml`), checked up front.

A missing or bad value raises `ConfigError` naming the environment variable that sets it
(`SOURCES__METRONOME__API_TOKEN`), which the CLI prints as one line and exit code 2.
Secret values never appear in a message.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigurationValueError

from httpkit import InsecureBaseURLError, check_base_url
from sources.metronome import MetronomeSettings

METRONOME_SECTION = "sources.metronome"
SECRET_KEYS = frozenset({"api_token"})

_EXPECTED = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


class ConfigError(Exception):
    """A configuration value is missing or unusable; `key` is its environment variable."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


def env_key(dotted: str) -> str:
    """`sources.metronome.api_token` -> `SOURCES__METRONOME__API_TOKEN`."""
    return dotted.replace(".", "__").upper()


def load_metronome_settings() -> MetronomeSettings:
    """The `[sources.metronome]` settings, validated; the token comes from secrets only."""
    types = typing.get_type_hints(MetronomeSettings)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(MetronomeSettings):
        value = _read(f"{METRONOME_SECTION}.{field.name}", types[field.name])
        if value is not None:
            values[field.name] = value
    token_key = f"{METRONOME_SECTION}.api_token"
    if not values.get("api_token"):
        raise ConfigError(
            env_key(token_key),
            "not set (export it, or put api_token under [sources.metronome] in .dlt/secrets.toml)",
        )
    settings = MetronomeSettings(**values)
    if problems := settings.problems():
        name, problem = next(iter(problems.items()))
        raise ConfigError(env_key(f"{METRONOME_SECTION}.{name}"), problem)
    try:
        check_base_url(
            settings.base_url,
            key=env_key(f"{METRONOME_SECTION}.base_url"),
            allow_insecure_http=settings.allow_insecure_http,
        )
    except InsecureBaseURLError as exc:
        raise ConfigError(exc.key, str(exc).removeprefix(f"{exc.key}: ")) from None
    return settings


def _read(dotted: str, expected: type) -> Any:
    accessor = dlt.secrets if dotted.rsplit(".", 1)[-1] in SECRET_KEYS else dlt.config
    try:
        return accessor.get(dotted, expected)
    except ConfigurationValueError:
        raise ConfigError(
            env_key(dotted), f"must be {_EXPECTED.get(expected, expected.__name__)}"
        ) from None
