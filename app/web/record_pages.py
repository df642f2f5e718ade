"""The child record's tabs beyond the chronology, and who has viewed the record."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
