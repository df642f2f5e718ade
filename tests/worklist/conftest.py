"""The cast every worklist story shares (the app is the one `app.main.create_app` serves)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.cases.factories import Cast, make_cast


@pytest.fixture
def cast(db: Session) -> Cast:
    return make_cast(db)
