"""Children in care: becoming looked after, placement changes and looked-after reviews."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
