"""JSON API of audit programmes, findings and their export (issue 6, part 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["audits"])
