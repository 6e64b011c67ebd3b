"""Body validation: the seed's create bodies, and partial update bodies derived from them.

A create body is validated whole against its `models` TypedDict (embedded lines included), so
errors carry pydantic's own `loc`, e.g. `["body", "invoice_line_items", 0, "tax_amount"]`.
An update body has the same fields minus the embedded lines, all optional; each given field is
validated with the create field's type. A null clears a nullable field; a null on a field the
create requires answers `null_not_allowed` (the stored record could no longer be read back
as a valid create).
"""

from __future__ import annotations

from typing import Any, NotRequired, Required, get_args, get_origin

from pydantic import TypeAdapter, ValidationError
from typing_extensions import get_type_hints

from sandbox.fincome.errors import ErrorItem, Invalid, error_item, from_validation_error
from sandbox.fincome.schema import COLLECTIONS, CollectionSpec

Body = dict[str, Any]


class BodyValidator:
    """Validates create and update bodies of one collection."""

    def __init__(self, spec: CollectionSpec) -> None:
        self.spec = spec
        self._create: TypeAdapter[Any] = TypeAdapter(spec.body)
        hints = get_type_hints(spec.body, include_extras=True)
        self.fields: tuple[str, ...] = tuple(hints)
        # from the hints: `__required_keys__` misses `Required` in postponed annotations
        self.required = frozenset(name for name, hint in hints.items() if _is_required(hint))
        self._update_fields: dict[str, TypeAdapter[Any]] = {
            name: TypeAdapter(_unwrap(hint))
            for name, hint in hints.items()
            if name != spec.embedded
        }

    def create(self, payload: Any) -> Body:
        """The validated body, every absent field filled with its default (null mostly)."""
        if not isinstance(payload, dict):
            raise Invalid([_not_an_object(payload)])
        try:
            given: Body = self._create.validate_python(payload)
        except ValidationError as exc:
            raise Invalid(from_validation_error(exc, ["body"])) from None
        return self.with_defaults(given)

    def with_defaults(self, given: Body) -> Body:
        defaults = self.spec.defaults
        return {
            name: given[name] if name in given else (defaults[name]() if name in defaults else None)
            for name in self.fields
        }

    def update(self, payload: Any) -> Body:
        """Only the fields given, validated; unknown fields and embedded lines are refused."""
        if not isinstance(payload, dict):
            raise Invalid([_not_an_object(payload)])
        changes: Body = {}
        errors: list[ErrorItem] = []
        for name, value in payload.items():
            adapter = self._update_fields.get(name)
            if adapter is None:
                errors.append(
                    error_item(
                        ["body", name], "Extra inputs are not permitted", "extra_forbidden", value
                    )
                )
            elif value is None and name in self.required:
                errors.append(
                    error_item(
                        ["body", name],
                        "Field is required on create and cannot be cleared",
                        "null_not_allowed",
                    )
                )
            else:
                try:
                    changes[name] = adapter.validate_python(value)
                except ValidationError as exc:
                    errors.extend(from_validation_error(exc, ["body", name]))
        if errors:
            raise Invalid(errors)
        return changes


def _is_required(hint: Any) -> bool:
    origin: object = get_origin(hint)  # typed `object`: mypy's overloads guess ParamSpec for Any
    return origin is Required


def _unwrap(hint: Any) -> Any:
    """`Required[X]` / `NotRequired[X]` -> `X`: an update field is validated by its value type."""
    return get_args(hint)[0] if get_origin(hint) in (Required, NotRequired) else hint


def _not_an_object(payload: Any) -> ErrorItem:
    return error_item(
        ["body"],
        "Input should be a valid dictionary or object to extract fields from",
        "model_attributes_type",
        payload,
    )


VALIDATORS: dict[str, BodyValidator] = {
    name: BodyValidator(spec) for name, spec in COLLECTIONS.items()
}
