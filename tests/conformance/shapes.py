"""A record against an SDK model: every validation error and every undeclared field.

Stainless models allow extra fields, so a field the emulator invents (or misspells) passes
`model_validate` silently; `record_problems` also walks the parsed model and reports each
key the model does not declare. Problems are plain strings that name the path, e.g.
`invoices[17].payer.contract_id: Field required`, so a failing test prints them all.
"""

from __future__ import annotations

from typing import Any

import pydantic
from metronome._models import BaseModel

MAX_SHOWN = 60  # a value quoted in a problem is cut here: enough to recognise it


def record_problems(model: type[BaseModel], record: Any, path: str) -> list[str]:
    """Where `record` is not an instance of `model` as the SDK reads it (empty when it is)."""
    try:
        parsed = model.model_validate(record)
    except pydantic.ValidationError as error:
        problems = [_error_line(path, detail) for detail in error.errors()]
        # the lenient reading still shows the fields the model does not declare
        lenient = model.construct(**record) if isinstance(record, dict) else None
        return problems + undeclared_fields(lenient, path)
    return undeclared_fields(parsed, path)


def undeclared_fields(value: Any, path: str) -> list[str]:
    """Every key under `value` (a parsed SDK model) that its model does not declare."""
    if isinstance(value, BaseModel):
        model = type(value)
        problems = [
            f"{path}.{key}: not declared by {model.__name__} (value {_shown(extra)})"
            for key, extra in (value.__pydantic_extra__ or {}).items()
        ]
        for name, field in model.model_fields.items():
            problems += undeclared_fields(
                getattr(value, name, None), f"{path}.{field.alias or name}"
            )
        return problems
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in undeclared_fields(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in undeclared_fields(item, f"{path}.{key}")]
    return []


def _error_line(path: str, detail: Any) -> str:
    location = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"]
    )
    return f"{path}{location}: {detail['msg']} (value {_shown(detail['input'])})"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
