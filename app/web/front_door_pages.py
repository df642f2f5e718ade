"""The front door: record a contact (several children at once) and the MASH decision."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
