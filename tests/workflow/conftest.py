"""Every story in this folder has the same cast (see ``tests.cases.factories.make_cast``)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.cases.factories import Cast, make_cast


@pytest.fixture
def cast(db: Session) -> Cast:
    return make_cast(db)
