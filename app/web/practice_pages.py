"""Practice and quality: services and interventions, supervision, case file audits and findings."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
