"""Reading a JSON body that a stranger sent: bounded in depth before it is parsed.

Python's parser recurses once per `[` or `{`; a body of 100,000 brackets ends in `RecursionError`,
and a deep but legal document makes every later walk over it slow. `parse_json` refuses a body
nested deeper than `MAX_DEPTH` before parsing it (a scan of the brackets outside strings, linear
in the body's size) and turns every kind of bad JSON into one `BadJSON`. The body's size is bounded
earlier, by Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (400) or by the endpoint's own cap.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Every byte but the four brackets, for bytes.translate(None, delete=...).
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BadJSON(ValueError):
    """The body is not JSON, not UTF-8, or nested deeper than allowed."""


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep `raw` nests (brackets inside strings do not count); stops counting past `limit`."""
    brackets = _STRING.sub(b'""', raw).translate(None, delete=_NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The document in `raw`, or `BadJSON`."""
    data = raw.encode() if isinstance(raw, str) else raw
    if nesting_depth(data, max_depth) > max_depth:
        raise BadJSON(f"nested deeper than {max_depth}")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadJSON(str(exc)) from None
