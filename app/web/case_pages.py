"""A case: its overview with the next steps its state machine allows, visits, notes, closure."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
