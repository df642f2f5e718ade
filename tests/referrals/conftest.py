"""Front-door stories share a cast (``make_front_door``)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.contacts.creators import FrontDoor, make_front_door


@pytest.fixture
def fd(db: Session) -> FrontDoor:
    return make_front_door(db)
