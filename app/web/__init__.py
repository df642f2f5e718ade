"""The web client: server-rendered GOV.UK Frontend pages on the same services as the API."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
