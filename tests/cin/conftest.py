"""The cast every cin story shares (the app is the one `app.main.create_app` serves)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.assessments.factories import Cast, make_cast


@pytest.fixture
def cast(db: Session) -> Cast:
    return make_cast(db)
