"""JSON that cannot crash a view: a strict ``loads`` and the DRF parser built on it.

Python's ``json`` accepts things that later blow up far from the parser: ``[`` x 50000
raises ``RecursionError`` (not ``ValueError``, so DRF's parser lets it through as a 500); a
lone surrogate (``"\\ud800"``) decodes fine and then fails to encode for the database, the
password hasher or PyJWT; a NUL is refused by PostgreSQL; ``1e999999`` becomes ``inf``.
:func:`loads` refuses all of these with :class:`JSONError` (a ``ValueError``), and
:class:`JSONParser` turns that into DRF's ``ParseError`` (400).

Refused: bodies that are not UTF-8; nesting deeper than :data:`MAX_DEPTH`; any string (key
or value) with a lone surrogate or NUL; ``NaN`` / ``Infinity`` and numbers that overflow to
them; duplicate object keys (two parsers could read different values); bodies larger than
``DATA_UPLOAD_MAX_MEMORY_SIZE``.  Written by hand because neither DRF nor orjson (which
refuses surrogates but not NUL, and has no depth setting) does all of this.
"""

from __future__ import annotations

import json
import math
import re
from typing import IO, Any, TypeGuard

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer

__all__ = ["MAX_DEPTH", "JSONError", "JSONParser", "clean_string", "loads"]

MAX_DEPTH = 32
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


class JSONError(ValueError):
    """The body is not JSON this package accepts (the message is safe to show)."""


def clean_string(value: object) -> TypeGuard[str]:
    """True for a ``str`` without NUL or lone surrogates (safe for databases and hashes)."""
    return isinstance(value, str) and _BAD_CHARACTERS.search(value) is None


def _constant(name: str) -> Any:
    raise JSONError(f"{name} is not allowed in JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise JSONError("duplicate key in a JSON object")
    return result


def _check(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not clean_string(item):
                raise JSONError("strings must not contain NUL or unpaired surrogates")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise JSONError("numbers must be finite")
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise JSONError(f"JSON nested deeper than {MAX_DEPTH} levels")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if key is not None:
                    stack.append((key, depth + 1))
                stack.append((child, depth + 1))


def loads(body: bytes | str) -> Any:
    """Parse ``body`` strictly; raises :class:`JSONError` for anything refused."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        value = json.loads(text, parse_constant=_constant, object_pairs_hook=_pairs)
    except JSONError:
        raise
    except RecursionError:
        raise JSONError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise JSONError("the body is not valid UTF-8 JSON") from exc
    _check(value)
    return value


def _limit() -> int | None:
    value = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
    return int(value) if value is not None else None


class JSONParser(BaseParser):
    """``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``: DRF's JSON parser with :func:`loads`."""

    media_type = "application/json"
    renderer_class = JSONRenderer

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        if stream is None:
            return None
        limit = _limit()
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise ParseError("The JSON body is too large.")
        if not body.strip():
            raise ParseError("The body is empty; send a JSON object.")
        try:
            return loads(body)
        except JSONError as exc:
            raise ParseError(str(exc)) from None
