"""Children, the adults around them, their relationships and addresses."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core_types import Ethnicity, Sex
from app.models.base import Base, IdMixin, StrEnumType, TimestampMixin


class PersonKind(StrEnum):
    child = "child"
    adult = "adult"


class RelationshipKind(StrEnum):
    parent = "parent"
    pr_holder = "pr_holder"  # holds parental responsibility (Children Act 1989 s.3)
    sibling = "sibling"
    household_member = "household_member"
    relative = "relative"
    carer = "carer"
    professional = "professional"


class Person(IdMixin, TimestampMixin, Base):
    """A child or adult. Unborn children have an expected date of birth and Sex U (CIN rule
    8750)."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint(
            "date_of_birth IS NOT NULL OR expected_date_of_birth IS NOT NULL OR kind = 'adult'",
            name="child_has_birth_or_expected_date",
        ),
        CheckConstraint(
            "date_of_death IS NULL OR date_of_birth IS NULL OR date_of_death >= date_of_birth",
            name="death_not_before_birth",
        ),
        Index("ix_person_name", "last_name", "first_name"),
        # Name search is a prefix match on the lower-cased copies; on PostgreSQL a LIKE 'abc%' can
        # only use a B-tree built with the pattern operator class (non-C collations).
        Index(
            "ix_person_search_last_name",
            "search_last_name",
            postgresql_ops={"search_last_name": "varchar_pattern_ops"},
        ),
        Index(
            "ix_person_search_first_name",
            "search_first_name",
            postgresql_ops={"search_first_name": "varchar_pattern_ops"},
        ),
    )

    kind: Mapped[PersonKind] = mapped_column(StrEnumType(PersonKind), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    middle_names: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(100))
    # Lower-cased copies for case-insensitive search that can use an index on both databases.
    search_first_name: Mapped[str] = mapped_column(String(100))
    search_last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(index=True)
    expected_date_of_birth: Mapped[date | None]
    date_of_death: Mapped[date | None]
    sex: Mapped[Sex] = mapped_column(StrEnumType(Sex, 1))
    gender_identity: Mapped[str | None] = mapped_column(String(60))
    ethnicity: Mapped[Ethnicity | None] = mapped_column(StrEnumType(Ethnicity, 4))
    first_language: Mapped[str | None] = mapped_column(String(60))
    religion: Mapped[str | None] = mapped_column(String(60))
    disabilities: Mapped[list[Any]] = mapped_column(default=list)
    upn: Mapped[str | None] = mapped_column(String(13), index=True)
    former_upn: Mapped[str | None] = mapped_column(String(13))
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    la_child_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    # A restricted record (e.g. a staff member's child, adoption) is visible only to named users.
    is_restricted: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    aliases: Mapped[list[PersonAlias]] = relationship(
        back_populates="person", lazy="raise", cascade="all, delete-orphan"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="person", lazy="raise", order_by="Address.start_date"
    )

    __mapper_args__ = {"version_id_col": version}


class PersonAlias(IdMixin, Base):
    """Another name a person is or was known by (searchable)."""

    __tablename__ = "person_alias"
    __table_args__ = (
        Index(
            "ix_person_alias_search_last_name",
            "search_last_name",
            postgresql_ops={"search_last_name": "varchar_pattern_ops"},
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    search_last_name: Mapped[str] = mapped_column(String(100))

    person: Mapped[Person] = relationship(back_populates="aliases", lazy="raise")


class PersonRelationship(IdMixin, TimestampMixin, Base):
    """``related_person`` is the ``kind`` of ``person`` (e.g. related_person is a parent of
    person)."""

    __tablename__ = "relationship"
    __table_args__ = (
        CheckConstraint("person_id <> related_person_id", name="not_self"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    related_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[RelationshipKind] = mapped_column(StrEnumType(RelationshipKind))
    has_parental_responsibility: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="raise")
    related_person: Mapped[Person] = relationship(foreign_keys=[related_person_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Address(IdMixin, TimestampMixin, Base):
    """An address a person lived at; the history is kept (end_date set, never deleted)."""

    __tablename__ = "address"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    line_1: Mapped[str] = mapped_column(String(200))
    line_2: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8), index=True)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    person: Mapped[Person] = relationship(back_populates="addresses", lazy="raise")

    __mapper_args__ = {"version_id_col": version}
