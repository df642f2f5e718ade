"""The signed-in person's own account: changing a password."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
