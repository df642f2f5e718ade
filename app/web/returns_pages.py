"""Statutory returns (CIN census, SSDA903, Annex A) and the data-quality list."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
