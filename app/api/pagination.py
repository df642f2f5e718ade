"""Opaque keyset cursors and the ``Page[T]`` envelope every list endpoint returns.

A cursor carries the sort key of the last row a client saw (e.g. ``(due_date, id)``), so the next
page starts strictly after it: stable under concurrent inserts, and no OFFSET scans. It is opaque
to clients (base64url of tagged JSON) so that the key can change without breaking them; garbage
is a 422, not a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.errors import Invalid

T = TypeVar("T")

CursorValue = str | int | bool | date | datetime | uuid.UUID | None


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next (null: no more)."""

    items: list[T]
    next_cursor: str | None = None


def _tag(value: CursorValue) -> list[Any]:
    # Order matters: bool before int (bool is an int), datetime before date (likewise).
    if value is None:
        return ["n", None]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _untag(item: Any) -> CursorValue:
    if not isinstance(item, list) or len(item) != 2:
        raise ValueError("bad cursor item")
    tag, raw = item
    if tag == "n" and raw is None:
        return None
    if tag == "b" and isinstance(raw, bool):
        return raw
    if tag == "i" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if tag == "t" and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    if tag == "d" and isinstance(raw, str):
        return date.fromisoformat(raw)
    if tag == "u" and isinstance(raw, str):
        return uuid.UUID(raw)
    if tag == "s" and isinstance(raw, str):
        return raw
    raise ValueError("bad cursor item")


def encode_cursor(values: tuple[Any, ...]) -> str:
    """The opaque cursor for a row's sort key (str, int, bool, date, datetime, UUID or None)."""
    payload = json.dumps([_tag(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    """The sort key inside a cursor from :func:`encode_cursor`; 422 if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        items = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(items, list):
            raise ValueError("bad cursor")
        return tuple(_untag(item) for item in items)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise Invalid.field(
            "cursor", "This cursor is not one we gave out; start again without it."
        ) from None
