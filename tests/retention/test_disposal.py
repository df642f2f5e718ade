"""Stories of the disposal job: a care leaver's record destroyed after her 75th birthday and nothing
anywhere still naming her, an adopted child's kept at 99 years and destroyed at 100, a rerun and a
dry run that change nothing, a crash that leaves the record whole, and the audit trail of every
other child still verifying while the append-only guard still refuses a normal DELETE."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.audit.service import canonical_json, verify_chains_report
from app.config import Settings
from app.core_types import PrimaryNeed, ReferralSource
from app.models import Case, ChangeLog, Person, PersonRelationship, RelationshipKind
from app.models.base import Base
from app.models.frontdoor import Contact, Referral
from app.models.retention import RecordDisposal
from app.models.retention_marker import DisposalMarker
from app.referrals import service as referral_service
from app.retention import disposal
from app.retention.disposal import dispose_due
from tests.care.factories import CareCast, make_care_cast, noon, principal
from tests.cases.factories import open_case, take
from tests.contacts.creators import at, contact_body, decide, make_front_door, post_contact
from tests.factories import auth_headers, make_child
from tests.retention.stories import (
    adopted_record,
    looked_after_record,
    make_adult,
    relate,
    rows_naming,
)

# Ava was born on 1 March 2006, looked after from February 2020 to June 2022: her record is kept to
# her 75th birthday (rule 39).
AVA_BORN = date(2006, 3, 1)
AVA_75 = date(2081, 3, 1)


@pytest.fixture
def cast(db: Session) -> CareCast:
    return make_care_cast(db)


def _ava(db: Session, cast: CareCast) -> tuple[Person, list[Case]]:
    """Ava's record: looked after 2020-2022, then referred twice more after her case closed, with
    no further action each time; the second of those is a re-referral naming the first (a row
    pointing at a row of its own table)."""
    record = looked_after_record(
        db, cast, born=AVA_BORN, in_care=date(2020, 2, 3), ceased=date(2022, 6, 1)
    )
    cases = list(record.cases)
    for day in (date(2022, 9, 5), date(2022, 11, 7)):
        with clock.frozen_at(noon(day)):
            case = open_case(db, by=cast.manager, child=record.child, team=cast.team)
            take(db, case, "accept_referral", by=cast.manager)
            referral_service.referral_record(
                db,
                actor=principal(db, cast.manager),
                case=case,
                referral_date=day,
                source=ReferralSource.SCHOOL,
                primary_need=PrimaryNeed.FAMILY_IN_ACUTE_STRESS,
            )
            take(db, case, "referral_nfa", by=cast.manager)
        cases.append(case)
    re_referral = db.scalar(select(Referral).where(Referral.case_id == cases[-1].id))
    assert re_referral is not None
    assert re_referral.previous_referral_id is not None
    return record.child, cases


def _counts(db: Session) -> dict[str, int]:
    return {
        t.name: db.scalar(select(func.count()).select_from(t)) or 0
        for t in Base.metadata.sorted_tables
    }


def _run(
    session_factory: sessionmaker[Session],
    settings: Settings,
    on: date,
    *,
    dry_run: bool = False,
) -> disposal.DisposalSummary:
    with clock.frozen_at(noon(on)):
        return dispose_due(session_factory, settings=settings, dry_run=dry_run)


def test_a_care_leaver_past_her_75th_birthday_is_destroyed_and_nothing_still_names_her(
    db: Session, cast: CareCast, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    ava, cases = _ava(db, cast)
    # Her mother appears in Ava's record only; her father is also the father of her brother Ben,
    # whose own record (a case of his own) is years from its date.
    mother, father = make_adult(db, "Mia"), make_adult(db, "Finn")
    relate(db, ava, mother, RelationshipKind.parent)
    relate(db, ava, father, RelationshipKind.parent)
    ben = looked_after_record(
        db, cast, born=date(2012, 4, 2), in_care=date(2021, 1, 4), ceased=date(2023, 2, 1),
        first_name="Ben",
    )  # fmt: skip
    relate(db, ben.child, father, RelationshipKind.parent)
    relate(db, ben.child, ava, RelationshipKind.sibling)
    db.commit()
    ava_id, mother_id, father_id = ava.id, mother.id, father.id
    case_ids = {c.id for c in cases}

    the_day_before = _run(session_factory, settings, date(2081, 2, 28))
    # (The cast's other child, never known to social care, went at her 25th birthday: rule of
    # the council's default.)
    assert ava.id not in the_day_before.disposed
    summary = _run(session_factory, settings, AVA_75)

    db.expire_all()
    assert summary.disposed == [ava_id]  # the only one due since the day before
    assert summary.failed == []
    # Nothing anywhere still refers to Ava, her case or her mother, in any table of the model.
    assert rows_naming(db, {ava_id, mother_id, *case_ids}) == {}
    # Her father and her brother stay: Ben's record still refers to them.
    assert db.get(Person, father_id) is not None
    assert db.get(Person, ben.child.id) is not None
    assert db.scalar(select(func.count()).where(PersonRelationship.person_id == ben.child.id)) == 1
    # The proof: the rule, the date and what was removed; no name in it or in its audit entry.
    proof = db.scalar(select(RecordDisposal).where(RecordDisposal.person_id == ava_id))
    assert proof is not None
    assert (proof.rule, proof.disposal_due) == ("looked_after_75th_birthday", AVA_75)
    assert proof.rows_removed["tables"]["case_event"] > 0
    assert proof.rows_removed["people"] == 2
    entry = db.scalar(select(ChangeLog).where(ChangeLog.entity_id == proof.id))
    assert entry is not None
    assert entry.action == "dispose"
    for text_of in (canonical_json(proof.rows_removed), canonical_json(entry.changes)):
        assert "Ava" not in text_of
        assert "Mia" not in text_of
    # Every other child's chronology still verifies, Ben's among them.
    report = verify_chains_report(db)
    assert report.ok, report.first_broken
    assert report.checked_events > 0
    assert verify_chains_report(db, case_id=ben.cases[0].id).checked_events > 0
    # The pass through the audit triggers is closed again.
    assert db.scalar(select(func.count()).select_from(DisposalMarker)) == 0


def test_an_adopted_child_is_kept_at_99_years_and_destroyed_at_100(
    db: Session, cast: CareCast, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    bea = adopted_record(db, cast, born=date(2019, 3, 1), adoption_order=date(2021, 6, 1))
    db.commit()
    bea_id = bea.child.id

    at_99 = _run(session_factory, settings, date(2120, 6, 1))
    day_before_100 = _run(session_factory, settings, date(2121, 5, 31))
    db.expire_all()
    assert bea_id not in at_99.disposed
    assert bea_id not in day_before_100.disposed
    assert db.get(Person, bea_id) is not None

    at_100 = _run(session_factory, settings, date(2121, 6, 1))
    db.expire_all()
    assert at_100.disposed == [bea_id]
    assert db.get(Person, bea_id) is None
    proof = db.scalar(select(RecordDisposal).where(RecordDisposal.person_id == bea_id))
    assert proof is not None
    # 100 years from the order (rule 40) outlasts her 75th birthday (2094).
    assert (proof.rule, proof.disposal_due) == ("adoption_100_years", date(2121, 6, 1))


def test_a_second_run_disposes_of_nothing_and_a_dry_run_changes_nothing(
    db: Session, cast: CareCast, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    ava, _cases = _ava(db, cast)
    db.commit()
    ava_id = ava.id
    before = _counts(db)

    dry = _run(session_factory, settings, AVA_75, dry_run=True)
    db.expire_all()
    assert ava_id in dry.would_dispose
    assert dry.disposed == []
    assert _counts(db) == before

    first = _run(session_factory, settings, AVA_75)
    db.expire_all()
    after_first = _counts(db)
    second = _run(session_factory, settings, date(2081, 3, 2))
    db.expire_all()
    assert ava_id in first.disposed
    assert (second.disposed, second.held, second.failed) == ([], [], [])
    assert _counts(db) == after_first
    assert db.scalar(select(func.count()).select_from(RecordDisposal)) == len(first.disposed)


def test_a_crash_in_the_middle_of_a_person_leaves_their_record_whole(
    db: Session,
    cast: CareCast,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ava, cases = _ava(db, cast)
    db.commit()
    named_before = rows_naming(db, {ava.id, *(c.id for c in cases)})
    real_destroy = disposal._destroy

    def destroy_then_crash(*args: object, **kwargs: object) -> dict[str, int]:
        real_destroy(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("the server was killed here")

    # Fault injection: the real deletes run, then the process "dies" before the commit.
    monkeypatch.setattr(disposal, "_destroy", destroy_then_crash)
    with pytest.raises(RuntimeError):
        _run(session_factory, settings, AVA_75)
    db.expire_all()
    assert rows_naming(db, {ava.id, *(c.id for c in cases)}) == named_before
    assert db.scalar(select(func.count()).select_from(RecordDisposal)) == 0


def test_a_child_with_an_open_case_is_never_due_whatever_her_age(
    db: Session, cast: CareCast, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    old = make_child(db, first_name="Cara", date_of_birth=date(1990, 1, 1))
    with clock.frozen_at(noon(date(2021, 1, 4))):
        open_case(db, by=cast.manager, child=old, team=cast.team)
    db.commit()
    summary = _run(session_factory, settings, date(2200, 1, 1), dry_run=True)
    assert old.id not in summary.would_dispose


def test_a_normal_delete_from_the_audit_tables_is_still_refused(
    db: Session,
    cast: CareCast,
    connection: Connection,
    session_factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    """The triggers let the disposal job through, and nobody else, even after a disposal ran."""
    _ava(db, cast)
    ben = looked_after_record(
        db, cast, born=date(2012, 4, 2), in_care=date(2021, 1, 4), ceased=date(2023, 2, 1),
        first_name="Ben",
    )  # fmt: skip
    db.commit()
    _run(session_factory, settings, AVA_75)
    for statement in (
        "DELETE FROM case_event",
        "DELETE FROM change_log",
        "DELETE FROM access_log",
        "UPDATE case_event SET reason = 'rewritten'",
    ):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
        savepoint.rollback()
    db.expire_all()
    assert verify_chains_report(db, case_id=ben.cases[0].id).checked_events > 0


def test_a_contact_about_two_siblings_goes_with_the_last_of_them(
    client: TestClient, db: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """A school rang about Ava and Ben in 2025; no further action for either (information and
    advice). The contact holds the school's account of both children: it stays while Ben's record
    does, and goes with it."""
    fd = make_front_door(db)
    headers = auth_headers(db, fd.mash_officer)
    with clock.frozen_at(at(2025, 11, 24, 10, 0)):
        contact = post_contact(client, headers, contact_body(fd, fd.ava, fd.ben))
    with clock.frozen_at(at(2025, 11, 25, 11, 0)):
        decided = decide(
            client,
            headers,
            contact,
            *(
                {
                    "child_id": str(child.id),
                    "decision": "information_and_advice",
                    "reason": "School given advice on support for the family.",
                }
                for child in (fd.ava, fd.ben)
            ),
        )
    assert decided.status_code == 200, decided.text
    contact_id = uuid.UUID(contact["id"])
    ava_id, ben_id = fd.ava.id, fd.ben.id

    # Ava (born 1 March 2016) is due at 25; Ben (born 9 July 2019) in 2044.
    first = _run(session_factory, settings, date(2041, 3, 1))
    db.expire_all()
    assert ava_id in first.disposed
    assert ben_id not in first.disposed
    assert db.get(Contact, contact_id) is not None
    assert rows_naming(db, {ava_id}) == {}

    second = _run(session_factory, settings, date(2044, 7, 9))
    db.expire_all()
    assert ben_id in second.disposed
    assert db.get(Contact, contact_id) is None
    assert rows_naming(db, {ben_id, contact_id}) == {}
