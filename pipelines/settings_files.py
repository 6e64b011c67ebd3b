"""Where billing-sync's settings files are, found the same way from any working directory.

dlt reads `.dlt/config.toml` and `.dlt/secrets.toml` from the working directory, so a run
started elsewhere (cron, Airflow) silently lost the committed defaults and a team's mapping;
and a team that wrote its mapping into the committed file broke `./dev test` and met a
conflict on every `git pull`. After the environment (which overrides everything), each key
is looked up in, first found wins:

1. the deployment's own folder, `$BILLING_SYNC_CONFIG_DIR`, else
   `$XDG_CONFIG_HOME/billing-sync`, else `~/.config/billing-sync`: its `config.toml` (the
   team's settings, `[mapping.pricing_units]` and the like) and `secrets.toml`;
2. the project's `.dlt/`, found from the package (the checkout holding `pipelines/`), or
   `$DLT_PROJECT_DIR/.dlt` when set (as in dlt): the committed `config.toml` (defaults) and
   the git-ignored `secrets.toml`;
3. dlt's global folder (`~/.dlt`), as dlt itself does.

`use_settings_files` puts these in place of dlt's two TOML providers, once per command.
A file that is not valid TOML is kept as an `UnreadableFile`, which `config_keys` reports
(exit 2, file, line and column) before any setting is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dlt.common.configuration.container import Container
from dlt.common.configuration.providers.toml import (
    CONFIG_TOML,
    SECRETS_TOML,
    SettingsTomlProvider,
    StringTomlProvider,
    TomlProviderReadException,
)
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.runtime.run_context import global_dir

CONFIG_DIR_ENV = "BILLING_SYNC_CONFIG_DIR"
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout holding the package


class UnreadableFile(StringTomlProvider):
    """Stands, empty, for a TOML file dlt cannot parse, keeping dlt's error to report."""

    def __init__(self, name: str, error: TomlProviderReadException) -> None:
        super().__init__("")
        self._name = name
        self.error = error

    @property
    def name(self) -> str:
        return self._name


def deployment_dir() -> Path:
    """The deployment's own settings folder (it need not exist)."""
    if given := os.environ.get(CONFIG_DIR_ENV):
        return Path(given).expanduser().absolute()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "billing-sync"


def project_dir() -> Path:
    """The project's `.dlt/` folder: of `$DLT_PROJECT_DIR`, else of the package's checkout."""
    return Path(os.environ.get("DLT_PROJECT_DIR") or PROJECT_ROOT) / ".dlt"


@dataclass(frozen=True)
class Place:
    role: str  # deployment, project, dlt global
    folder: Path


def places() -> list[Place]:
    """Where the TOML files are looked for, first found wins."""
    return [
        Place("deployment", deployment_dir()),
        Place("project", project_dir()),
        Place("dlt global", Path(global_dir())),
    ]


def use_settings_files() -> None:
    """Make dlt read `config.toml` and `secrets.toml` from `places()`, in that order."""
    try:
        context = Container()[PluggableRunContext]
    except TomlProviderReadException:
        # dlt's own start-up read a broken project file: every setting read fails on it
        # again, and `config_keys` reports it (file, line, column)
        return
    folders = [str(place.folder) for place in places()]
    for name, secret in ((SECRETS_TOML, True), (CONFIG_TOML, False)):
        try:
            provider: StringTomlProvider | SettingsTomlProvider = SettingsTomlProvider(
                name, secret, name, folders, folders[-1]
            )
        except TomlProviderReadException as error:
            provider = UnreadableFile(name, error)
        context.providers[name] = provider


@dataclass(frozen=True)
class SettingsFile:
    role: str
    path: Path
    read: bool  # it exists and dlt reads it


def settings_files() -> list[SettingsFile]:
    """Every settings file looked for, whether it was there, in lookup order."""
    return [
        SettingsFile(place.role, place.folder / name, (place.folder / name).is_file())
        for place in places()
        for name in (CONFIG_TOML, SECRETS_TOML)
    ]
