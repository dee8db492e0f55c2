"""JSON parsing that accepts only JSON text (RFC 8259) made of Unicode: one error type for the rest."""

from __future__ import annotations

import json
from typing import Any


class InvalidJSONText(ValueError):
    """Not JSON text: malformed, `NaN` or `Infinity` (Python's json module takes them), nested
    deeper than the parser recurses, or a number past Python's integer digit limit."""


class NotUnicodeText(InvalidJSONText):
    """Valid JSON whose strings hold a lone UTF-16 surrogate (from an escape like `\\ud800`)."""


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def load_json_text(text: str | bytes) -> Any:
    """`json.loads`, strictly: InvalidJSONText for anything that is not JSON text, and
    NotUnicodeText for lone surrogates, which no store, path or log can encode."""
    try:
        data = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidJSONText(str(err) if isinstance(err, ValueError) else "nested too deeply") from None
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise NotUnicodeText("a string holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text") from None
    return data
