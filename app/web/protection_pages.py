"""Child protection: strategy discussions, section 47 enquiries, conferences and CP plans."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
