"""Request body parsing with limits that the standard parsers do not have."""

import json
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32


def too_deep(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(data: bytes | str):
    """``json.loads`` that answers deep nesting with ``ValueError`` instead of ``RecursionError``.

    Python's parser recurses once per nesting level; a body of ten thousand ``[`` exhausts the
    stack, and a merely deep one makes every later walk over it (validation, storage) risky.
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(_("JSON nested too deeply")) from None
    if too_deep(value):
        raise ValueError(_("JSON nested more than %(n)s levels deep") % {"n": MAX_JSON_DEPTH})
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the nesting limit of ``loads`` (a 400, never a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return loads(stream.read().decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
