"""JSON API of supervision (issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["supervision"])
