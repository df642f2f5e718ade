"""JSON API for org."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
