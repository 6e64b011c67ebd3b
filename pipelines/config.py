"""Settings from dlt's configuration (environment over `.dlt/*.toml`), checked up front.

A missing or bad value raises `ConfigError` naming the environment variable that sets it
(`SOURCES__METRONOME__API_TOKEN`), which the CLI prints as one line and exit code 2. Each
loader first refuses unknown keys in its own section and a TOML file dlt cannot read
(`config_keys.py`); the settings types judge the values, the loaders name the variable.
Secret values never appear in a message.
"""

from __future__ import annotations

import os
import typing
from typing import Any

import dlt
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigurationValueError,
    ConfigValueCannotBeCoercedException,
    ValueNotSecretException,
)

from destinations.fincome import FincomeSettings
from destinations.fincome.schema import COLLECTIONS
from destinations.fincome.settings import READ_ENDPOINTS, SettingsProblem
from pipelines.config_keys import KeyPath, Namespace, config_problem, is_close
from pipelines.logs import register_secret
from pipelines.sizes import size_bytes
from pipelines.transform.config import load_mapping_options
from pipelines.transform.options import MappingConfigError, MappingOptions
from sources.metronome import MetronomeSettings
from sources.metronome import SettingsProblem as MetronomeSettingsProblem
from sources.metronome.settings import resolve as resolve_metronome_settings

METRONOME_SECTION = "sources.metronome"
FINCOME_SECTION = "destination.fincome"
SECRET_KEYS = frozenset({"api_token", "api_key"})

_EXPECTED = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


class ConfigError(Exception):
    """A configuration value is missing or unusable; `key` is its environment variable."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


def env_key(dotted: str) -> str:
    """`sources.metronome.api_token` -> `SOURCES__METRONOME__API_TOKEN`."""
    return dotted.replace(".", "__").upper()


def check_known_keys(namespace: Namespace) -> None:
    """`ConfigError` for the first unknown key under `namespace`, or an unreadable TOML file."""
    if found := config_problem(namespace):
        raise ConfigError(found.key, found.problem)


# Every table under [sources] is ours (the project has one source); its keys are the fields
# of the settings the source resolves there when used on its own too.
SOURCES = Namespace(
    "sources",
    {tuple(METRONOME_SECTION.split(".")): frozenset(MetronomeSettings.get_resolvable_fields())},
)


def load_metronome_settings() -> MetronomeSettings:
    """`[sources.metronome]` resolved by dlt into `MetronomeSettings`, which checks each
    value; its problems are named by their variable here. The token comes from secrets only."""
    check_known_keys(SOURCES)
    try:
        settings = resolve_metronome_settings()
    except ConfigFieldMissingException:  # the token: every other field has a default
        raise ConfigError(
            env_key(f"{METRONOME_SECTION}.api_token"),
            "not set (export it, or put api_token under [sources.metronome] in .dlt/secrets.toml)",
        ) from None
    except ValueNotSecretException as exc:  # dlt reads secrets only from secret providers
        raise ConfigError(
            env_key(f"{METRONOME_SECTION}.api_token"),
            f"found in {exc.provider_name}, which holds no secrets: put api_token under "
            "[sources.metronome] in .dlt/secrets.toml, or export it",
        ) from None
    except ConfigValueCannotBeCoercedException as exc:
        key = env_key(f"{METRONOME_SECTION}.{exc.field_name}")
        raise ConfigError(key, f"must be {_expected(exc.hint)}") from None
    except MetronomeSettingsProblem as exc:
        raise ConfigError(env_key(f"{METRONOME_SECTION}.{exc.key}"), exc.problem) from None
    register_secret(settings.api_token)  # masked in every log line
    return settings


def _expected(hint: Any) -> str:
    """What a value of type `hint` must be (`float | None`: a number)."""
    kind = next((t for t in typing.get_args(hint) if t is not type(None)), hint)
    return _EXPECTED.get(kind, getattr(kind, "__name__", str(kind)))


def _read(dotted: str, expected: type) -> Any:
    if dotted.rsplit(".", 1)[-1] in SECRET_KEYS:
        return _read_secret(dotted)
    try:
        return dlt.config.get(dotted, expected)
    except ConfigurationValueError:
        raise ConfigError(
            env_key(dotted), f"must be {_EXPECTED.get(expected, expected.__name__)}"
        ) from None


def _read_secret(dotted: str) -> str | None:
    """The secret without surrounding whitespace: one mounted from a file ends in a newline,
    which httpx refused with the secret in its message. What is left unsendable inside it,
    the settings types refuse."""
    # Asked without a type, dlt records the lookup under its secret hint: the trace it pickles
    # into the data dir (`dlt/<pipeline>/trace.pickle`) then keeps no value. Asked as `str`, it
    # kept the token in clear.
    value: Any = dlt.secrets.get(dotted)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(env_key(dotted), "must be a string")
    stripped = value.strip()
    for form in (value, stripped):  # from secrets.toml too, not only the environment
        register_secret(form)
    return stripped


def _is_fincome(path: KeyPath) -> bool:
    """[destination.fincome] and tables whose name is close enough to be a typo of it; the
    other destinations (dlt's duckdb...) are not ours."""
    return len(path) > 1 and is_close(path[1], FINCOME_SECTION.split(".")[1])


# [destination.fincome]: the fields of the one spec dlt resolves there; `paths` holds
# collection names, which the spec checks. A path can also be set alone, as
# DESTINATION__FINCOME__PATHS__<COLLECTION> (the variable a missing endpoint names).
PATH_NAMES = frozenset({*COLLECTIONS, *READ_ENDPOINTS})
DESTINATION = Namespace(
    "destination",
    {
        tuple(FINCOME_SECTION.split(".")): frozenset(FincomeSettings.get_resolvable_fields()),
        (*FINCOME_SECTION.split("."), "paths"): PATH_NAMES,
    },
    owns=_is_fincome,
)


def load_fincome_settings() -> FincomeSettings:
    """`[destination.fincome]` resolved by dlt into `FincomeSettings`, which checks each
    value; its problems are named by their variable here. The key comes from secrets only."""
    check_known_keys(DESTINATION)
    if not _read_secret(f"{FINCOME_SECTION}.api_key"):  # also masks it in every log line
        raise ConfigError(
            env_key(f"{FINCOME_SECTION}.api_key"),
            "not set (export it, or put api_key under [destination.fincome] in .dlt/secrets.toml)",
        )
    try:
        settings = resolve_configuration(
            FincomeSettings(), sections=tuple(FINCOME_SECTION.split("."))
        )
    except ConfigValueCannotBeCoercedException as exc:
        key = env_key(f"{FINCOME_SECTION}.{exc.field_name}")
        raise ConfigError(key, f"must be {_expected(exc.hint)}") from None
    except SettingsProblem as exc:
        raise ConfigError(env_key(f"{FINCOME_SECTION}.{exc.key}"), exc.problem) from None
    if alone := _paths_set_alone():
        settings.paths = {**(settings.paths or {}), **alone}
    return settings


def _paths_set_alone() -> dict[str, str]:
    """`DESTINATION__FINCOME__PATHS__<COLLECTION>` variables, over the `paths` table (dlt
    reads the table whole, from TOML or one JSON variable, never key by key)."""
    variables = {name: env_key(f"{FINCOME_SECTION}.paths.{name}") for name in PATH_NAMES}
    return {name: os.environ[var] for name, var in variables.items() if var in os.environ}


def fincome_settings_if_keyed() -> FincomeSettings | None:
    """`load_fincome_settings()` when a Fincome key is set, else None: a dry run needs no
    Fincome, but one that has a key is checked with it (a wrong key found before the push)."""
    check_known_keys(DESTINATION)
    if not _read_secret(f"{FINCOME_SECTION}.api_key"):
        return None
    return load_fincome_settings()


MAPPING = Namespace("mapping", {("mapping",): frozenset(MappingOptions.model_fields)})


def load_mapping() -> MappingOptions:
    """The `[mapping]` options; a bad value is a `ConfigError` naming its variable."""
    check_known_keys(MAPPING)
    try:
        return load_mapping_options()
    except MappingConfigError as exc:
        raise ConfigError(env_key(exc.key), str(exc)) from None


MEMORY_LIMIT_KEY = "data_dir.duckdb_memory_limit"
# The desired-state load reads through two 32 MB buffers, and a sync of 2,000 customers x 24
# months ran out at 64 MB (in its push plan).
MIN_MEMORY_LIMIT_MIB = 128
DATA_DIR = Namespace("data_dir", {("data_dir",): frozenset({MEMORY_LIMIT_KEY.split(".")[1]})})


def load_duckdb_memory_limit(default: int) -> int:
    """`[data_dir] duckdb_memory_limit` (e.g. `512MiB`, `2GB`) in bytes; `default` if unset."""
    check_known_keys(DATA_DIR)
    given = _read(MEMORY_LIMIT_KEY, str)
    limit = default if given is None else size_bytes(given)
    if limit is None:
        raise ConfigError(env_key(MEMORY_LIMIT_KEY), "must be a size such as 256MiB or 1GB")
    if limit < MIN_MEMORY_LIMIT_MIB * 2**20:
        raise ConfigError(env_key(MEMORY_LIMIT_KEY), f"must be at least {MIN_MEMORY_LIMIT_MIB}MiB")
    return limit
