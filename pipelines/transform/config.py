"""Load `MappingOptions` from dlt's configuration (`.dlt/config.toml`, env `MAPPING__*`)."""

from __future__ import annotations

from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException

from pipelines.transform.options import MappingConfigError, MappingOptions, mapping_options

# Tables must be asked for as dicts so that an env var (JSON text) is parsed into one.
_TABLE_KEYS = ("pricing_units", "line_types", "plan_period_months")


def load_mapping_options() -> MappingOptions:
    """The `[mapping]` options; unset keys keep their defaults.

    Raises `MappingConfigError` naming the key whose value is unusable.
    """
    section: dict[str, Any] = {}
    for key in MappingOptions.model_fields:
        name = f"mapping.{key}"
        try:
            value = dlt.config.get(name, dict) if key in _TABLE_KEYS else dlt.config.get(name)
        except ConfigValueCannotBeCoercedException:
            raise MappingConfigError(f"{name}: expected a table (JSON object)", key=name) from None
        if value is not None:
            section[key] = value
    return mapping_options(section)
