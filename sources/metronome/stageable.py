"""What dlt and DuckDB can stage faithfully, beyond each field's type.

A record that passes its type checks can still fail the whole load, and a load that fails
stays pending and fails every later run too. Found by fuzzing the record checks, each of
these once stopped the extract:

- an integer beyond 64 bits anywhere (dlt writes nested JSON with orjson, which refuses it);
- a top-level number beyond DECIMAL(38,9), dlt's column for decimals (29 integer digits);
  one with more than 9 places is rounded instead (`fitted_to_columns`), as DuckDB's own cast
  did before the extract staged Parquet, which refuses to drop digits;
- NaN or Infinity anywhere;
- a lone surrogate in any text or key (valid JSON, `"\\ud800"`, but not UTF-8);
- a NUL character in top-level text: the column drops it, so ids `a\\u0000` and `a` merge;
- text starting with a private-use character dlt reserves to mark typed values (U+F026 and
  the next 8): dlt decodes it, so `"\\uf026123"` would stage as the number 123;
- nesting deeper than `MAX_DEPTH` (orjson stops at 255 levels, Python's recursion earlier);
- a timestamp DuckDB cannot hold in UTC (year 0 or 10000 once the offset is applied), or
  that dlt would not parse as one (it would land in a variant column instead);
- top-level field names that dlt's naming would merge into one column (`Total` and `total`),
  or into one of dlt's own (`_dlt_id`): one value would silently overwrite the other;
- in a field nobody declared, text that reads as a number no number column holds ("NaN",
  "-1e30", "0.1234567891"): dlt coerces it into the number column an earlier record's value
  created.

Every walk here is iterative: a record nested thousands of levels deep cannot exhaust the
stack of the thread that checks it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from dlt.common.json import PUA_CHARACTER_MAX, PUA_START
from dlt.common.normalizers.naming.snake_case import NamingConvention

MAX_DEPTH = 64  # real Metronome objects nest about 6 levels (invoice > line > sub-line > tier)
INT_RANGE = range(-(2**63), 2**63)  # what a JSON writer (orjson) and BIGINT both hold
DECIMAL_LIMIT = Decimal(10) ** 29  # DECIMAL(38,9): 29 digits before the point
DECIMAL_PLACES = 9  # and 9 after it
_LEAST_STEP = Decimal(1).scaleb(-DECIMAL_PLACES)
_COLUMN_CONTEXT = Context(prec=38)  # the default 28 digits cannot round 29 + 9 of them
# No billing timestamp is older; the invoice cursors subtract their lookback from period
# starts, which overflows near year 1.
EARLIEST_YEAR = 1900
TOO_DEEP = f"<nested deeper than {MAX_DEPTH} levels>"
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_NAMING = NamingConvention()
# dlt marks typed values in its files with a leading private-use character and decodes any
# text starting with one: "\uf026123" would stage as the number 123.
DLT_MARKERS = frozenset(chr(PUA_START + offset) for offset in range(PUA_CHARACTER_MAX + 1))


def is_timestamp(value: Any) -> bool:
    """An RFC 3339 date-time (what Metronome documents) from 1900 on in UTC."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        return False
    try:
        return datetime.fromisoformat(value).astimezone(UTC).year >= EARLIEST_YEAR
    except (ValueError, OverflowError):
        return False


def first_unstageable(record: Any) -> str | None:
    """The first value (in document order) that dlt or DuckDB cannot stage, and why."""
    if _plainly_stageable(record, 0):
        return None
    for node in _nodes(record):
        _, _, value, depth = node
        if depth > MAX_DEPTH:
            return f"{_path(node)} is nested deeper than {MAX_DEPTH} levels"
        if problem := _value_problem(value, top_level=depth == 1):
            return f"{_path(node)} {problem}"
    return None


def _value_problem(value: Any, *, top_level: bool) -> str | None:
    if isinstance(value, str):
        if not is_unicode(value):
            return "holds a lone surrogate (not valid Unicode)"
        if _dlt_marked(value):
            return f"starts with U+{ord(value[0]):04X}, a character dlt reserves for typed values"
        if top_level and "\x00" in value:
            return "holds a NUL character, which a text column drops"
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if value in INT_RANGE else f"is {_digits(value)}, an integer beyond 64 bits"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"is {value}, not a finite number"
        if top_level and abs(value) >= DECIMAL_LIMIT:
            return f"is {value}, too large to stage (at most 29 digits before the point)"
    return None


def _plainly_stageable(value: Any, depth: int) -> bool:
    """The fast test (no paths built, recursion bounded by `MAX_DEPTH`): most records pass.

    Written for speed, it runs on every record: ASCII text (most leaves) costs no call.
    """
    if isinstance(value, dict):
        return (
            all(isinstance(key, str) and (key.isascii() or is_unicode(key)) for key in value)
            and _items_plainly_stageable(value.values(), depth)
            and (depth > 0 or _top_level_values_fit(value))
        )
    if isinstance(value, list):
        return _items_plainly_stageable(value, depth)
    if isinstance(value, str):
        return is_unicode(value) and not _dlt_marked(value)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return True
    if isinstance(value, int):
        return value in INT_RANGE
    return value.is_finite()


def _items_plainly_stageable(items: Collection[Any], depth: int) -> bool:
    if depth >= MAX_DEPTH:
        return not items
    for item in items:
        plain_text = isinstance(item, str) and item.isascii()
        if not plain_text and not _plainly_stageable(item, depth + 1):
            return False
    return True


def _top_level_values_fit(record: dict[str, Any]) -> bool:
    """Columns are stricter than JSON: DECIMAL(38,9) for numbers, text without NUL."""
    return not any(
        (isinstance(value, Decimal) and abs(value) >= DECIMAL_LIMIT)
        or (isinstance(value, str) and "\x00" in value)
        for value in record.values()
    )


# (parent node, key or index, value, depth); paths are only spelled out for a problem
Node = tuple[Any, str | int | None, Any, int]


def _nodes(record: Any) -> Iterator[Node]:
    """Every key (when it is not valid text) and value below `record`, in document order."""
    stack: list[Node] = [(None, None, record, 0)]
    while stack:
        node = stack.pop()
        _, _, value, depth = node
        if depth:
            yield node
        if depth > MAX_DEPTH:
            continue
        if isinstance(value, dict):
            children: list[Node] = []
            for key, item in value.items():
                children.append((node, key, item, depth + 1))
                if isinstance(key, str) and not is_unicode(key):
                    children.append((node, key, key, depth + 1))  # the name itself
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend((node, i, item, depth + 1) for i, item in reversed(list(enumerate(value))))


def _path(node: Node) -> str:
    """`line_items[0].sub_line_items[1].tiers` for a node."""
    parts: list[str] = []
    while node[0] is not None:
        parent, key = node[0], node[1]
        parts.append(f"[{key}]" if isinstance(key, int) else f".{_label(str(key))}")
        node = parent
    return "".join(reversed(parts)).removeprefix(".") or "(unnamed field)"


def _fits_a_number_column(number: Decimal) -> bool:
    """Whether either number column dlt may have made holds it as it is: BIGINT (below
    2**63) and DECIMAL(38,9) (at most 9 places; text coerced into it is not rounded)."""
    return number.is_finite() and (
        abs(number) < 2**63 and _places(number.normalize()) <= DECIMAL_PLACES
    )


def fitted_to_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its top-level numbers rounded to DECIMAL(38,9)'s 9 places.

    Metronome's amounts are doubles and often carry noise (0.30000000000000004). DuckDB's
    cast used to round them, half away from zero, when dlt inserted them as SQL; Parquet
    refuses to drop a digit and fails the whole load, so they are rounded here the same way.
    Nested values stay exact: they are staged as JSON text.
    """
    rounded = {
        name: value.quantize(_LEAST_STEP, ROUND_HALF_UP, _COLUMN_CONTEXT)
        for name, value in record.items()
        if isinstance(value, Decimal) and _places(value) > DECIMAL_PLACES
    }
    return {**record, **rounded} if rounded else record


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0  # NaN and Infinity: refused earlier


def number_text_clash(record: dict[str, Any], typed: Collection[str]) -> str | None:
    """A field nobody declared holding text dlt would coerce into a number it cannot store.

    dlt types an undeclared column from the first value it sees, and coerces later text
    into that type: once a record brought a number, "-1e30" or "NaN" fails the whole load.
    Declared fields (`typed`) have fixed column types and are checked by type instead.
    """
    for name, value in record.items():
        if name in typed or not isinstance(value, str):
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:
            continue
        if not _fits_a_number_column(number):
            shown = _label(value)
            return f'{_label(name)} is "{shown}", text dlt would read as a number it cannot store'
    return None


def column_clash(record: dict[str, Any]) -> str | None:
    """Two top-level fields that would be staged in one column, or one in dlt's own."""
    columns: dict[str, str] = {}
    for name in record:
        column = _column(name)
        if column.startswith("_dlt_"):
            return f"field '{_label(name)}' would overwrite dlt's own column {column}"
        if column in columns:
            first = _label(columns[column])
            return f"fields '{first}' and '{_label(name)}' would be staged in one column {column}"
        columns[column] = name
    return None


@lru_cache(maxsize=4096)  # the same few names on every record
def _column(name: str) -> str:
    try:
        return str(_NAMING.normalize_identifier(name))
    except ValueError:  # dlt refuses an empty name; it stages it as `_empty`
        return "_empty"


def storable(value: Any, depth: int = 0) -> Any:
    """`value` as JSON can hold it, for a reject's payload: big integers as text, lone
    surrogates escaped, anything nested deeper than `MAX_DEPTH` replaced by a note."""
    if depth > MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {_shown(str(k)): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(item, depth + 1) for item in value]
    if isinstance(value, str):
        return _shown(value)
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT_RANGE:
        return str(Decimal(value))  # every digit (int's str() refuses beyond 4,300)
    return value


def is_unicode(text: str) -> bool:
    """Whether the text can be written as UTF-8 (no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dlt_marked(text: str) -> bool:
    return len(text) > 1 and text[0] in DLT_MARKERS  # how dlt tells a marked value


def _shown(text: str) -> str:
    """Text with lone surrogates written as `\\udxxx` escapes."""
    return text if is_unicode(text) else text.encode("utf-8", "backslashreplace").decode()


def _label(text: str) -> str:
    """A field name for a reason: escaped when it is not printable, at most 40 characters."""
    shown = text if text.isprintable() else repr(text)[1:-1]
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _digits(value: int) -> str:
    """The integer's digits, cut short (str() refuses beyond 4,300 digits)."""
    digits = str(Decimal(value))
    return digits if len(digits) <= 30 else f"{digits[:12]}...({len(digits)} digits)"
