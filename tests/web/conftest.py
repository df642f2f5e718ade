from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.web.helpers import WebCast, make_web_cast


@pytest.fixture
def cast(db: Session) -> WebCast:
    return make_web_cast(db)
