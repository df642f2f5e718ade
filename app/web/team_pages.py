"""The team scorecard: caseloads, unallocated work and statutory timeliness, with drill-down."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
