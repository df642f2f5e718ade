"""Form drafts: autosave, drafts kept when a session ends, and the session-timeout warning."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
