"""Keys billing-sync does not know in its own sections, and configuration files dlt cannot read.

dlt answers only the keys it is asked for, so a misspelt one changed nothing, silently:
`page_sise = 50` under `[sources.metronome]`, a table `[mapping.pricing_unit]`,
`SOURCES__METRONOM__PAGE_SIZE`. Every key set under a namespace billing-sync owns, in the
TOML files dlt reads (through dlt's own providers, so the same files in the same places) or
in the environment, must be one it knows. dlt's own sections (`[runtime]`, `[normalize]`,
`[metronome_extract.normalize...]`...) are never looked at.

A file dlt cannot parse fails on the first lookup, with the whole exception as its only
trace; it is reported here as its path and position, and nothing of a secrets file's text.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dlt
import tomlkit
from dlt.common.configuration.providers.toml import (
    SECRETS_TOML,
    SettingsTomlProvider,
    TomlProviderReadException,
)

from pipelines.settings_files import UnreadableFile

KeyPath = tuple[str, ...]  # ("sources", "metronome", "page_size")


def _everything(path: KeyPath) -> bool:
    return True


@dataclass(frozen=True)
class Namespace:
    """A top-level section of dlt's configuration, the keys billing-sync knows in it, and
    which of its paths billing-sync owns (the rest belongs to dlt or another library)."""

    root: str
    sections: Mapping[KeyPath, frozenset[str]]  # a table's path -> the keys known in it
    owns: Callable[[KeyPath], bool] = field(default=_everything)

    def knows(self, path: KeyPath) -> bool:
        return path[-1] in self.sections.get(path[:-1], ())

    def is_table(self, path: KeyPath) -> bool:
        """A known table or one holding a known table (`[destination]`)."""
        return any(section[: len(path)] == path for section in self.sections)

    def suggestion(self, path: KeyPath) -> KeyPath | None:
        """The known key it wrongly nests in, or a known key or table that differs from
        `path` by one close name (`page_sise`, `[sources.metronom]`), or None."""
        siblings = self.sections.get(path[:-1], ())
        if close := difflib.get_close_matches(path[-1], siblings, n=1, cutoff=CLOSE_ENOUGH):
            return (*path[:-1], close[0])  # `PATHS__CUSTOMER` in a known table
        for end in range(len(path) - 1, 0, -1):
            if self.knows(path[:end]):
                return path[:end]
        known = [(*section, key) for section, keys in self.sections.items() for key in keys]
        scored = [(_closeness(path, other), other) for other in [*self.sections, *known]]
        score, best = max(scored, default=(0.0, path))
        return best if score >= CLOSE_ENOUGH else None


# difflib's ratio of the one differing name: `metronom`/`metronome` is 0.94, `page_sise`/
# `page_size` 0.89, `extra`/`keep_customer` 0.33.
CLOSE_ENOUGH = 0.75


def is_close(name: str, known: str) -> bool:
    """`name` is `known` or close enough to be a typo of it."""
    return difflib.SequenceMatcher(None, name, known).ratio() >= CLOSE_ENOUGH


def _closeness(path: KeyPath, other: KeyPath) -> float:
    if len(path) != len(other):
        return 0.0
    differing = [(mine, theirs) for mine, theirs in zip(path, other, strict=True) if mine != theirs]
    if len(differing) != 1:
        return 0.0
    return difflib.SequenceMatcher(None, *differing[0]).ratio()


@dataclass(frozen=True)
class ConfigProblem:
    key: str  # the environment variable (or the file) that holds it
    problem: str


def config_problem(namespace: Namespace) -> ConfigProblem | None:
    """The first unknown key under `namespace` in the environment or the TOML files, or the
    TOML file dlt cannot read."""
    try:
        providers = dlt.config.config_providers
    except TomlProviderReadException as error:
        return unreadable_file(error)
    for provider in providers:
        if isinstance(provider, UnreadableFile):  # a file `use_settings_files` could not read
            return unreadable_file(provider.error)
    for path in _environment_paths(namespace.root):
        if not namespace.knows(path) and namespace.owns(path):
            return _unknown_variable(namespace, path)
    for provider in providers:
        if isinstance(provider, SettingsTomlProvider):
            document = tomllib.loads(provider.to_toml())
            for path in _unknown_in(document.get(namespace.root), (namespace.root,), namespace):
                return _unknown_table_key(namespace, path, provider)
    return None


def _env_name(path: KeyPath) -> str:
    return "__".join(path).upper()


def _environment_paths(root: str) -> Iterator[KeyPath]:
    prefix = f"{root.upper()}__"
    for name in sorted(os.environ):
        if name.startswith(prefix):
            yield tuple(name.lower().split("__"))


def _unknown_in(node: Any, path: KeyPath, namespace: Namespace) -> Iterator[KeyPath]:
    """The paths under `path` that billing-sync owns and does not know; known keys are not
    entered (their values may be tables of ids, like `[mapping.pricing_units]`)."""
    if namespace.knows(path):
        return
    if isinstance(node, dict) and namespace.is_table(path):
        for key, value in node.items():
            yield from _unknown_in(value, (*path, key), namespace)
    elif node is not None and namespace.owns(path):
        yield path


def _unknown_variable(namespace: Namespace, path: KeyPath) -> ConfigProblem:
    suggestion = namespace.suggestion(path)
    hint = f" (did you mean {_env_name(suggestion)}?)" if suggestion else ""
    return ConfigProblem(_env_name(path), f"unknown setting{hint}")


def _unknown_table_key(
    namespace: Namespace, path: KeyPath, provider: SettingsTomlProvider
) -> ConfigProblem:
    where = ", ".join(provider.present_locations) or provider.name
    suggestion = namespace.suggestion(path)  # in a file, only a sibling can be close
    hint = f" (did you mean {suggestion[-1]}?)" if suggestion else ""
    return ConfigProblem(
        _env_name(path),
        f"unknown key {path[-1]} under [{'.'.join(path[:-1])}] in {where}{hint}",
    )


def unreadable_file(error: TomlProviderReadException) -> ConfigProblem:
    """Which file dlt could not read, and where: parsed again with dlt's parser (tomlkit),
    since dlt's exception names every place it looked, not the one that failed."""
    secret = error.file_name == SECRETS_TOML
    for path in filter(os.path.isfile, error.full_paths):
        try:
            with open(path, encoding="utf-8") as file:
                tomlkit.parse(file.read())
        except tomlkit.exceptions.ParseError as exc:
            # tomlkit's own words may quote a character of the file: not a secret's
            what = "" if secret else f": {str(exc).rsplit(' at line ', 1)[0]}"
            where = f"line {exc.line}, column {exc.col + 1}"  # tomlkit counts columns from 0
            return ConfigProblem(path, f"not valid TOML at {where}{what}")
        except (OSError, UnicodeDecodeError) as exc:
            return ConfigProblem(path, f"cannot be read ({type(exc).__name__})")
    return ConfigProblem(error.file_name, "cannot be read")
