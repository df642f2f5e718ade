"""JSON API for sign-in, sessions and tokens."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
