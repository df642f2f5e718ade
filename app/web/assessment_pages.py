"""Referral decisions, assessments (factors, submission, authorisation) and CIN plans."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
