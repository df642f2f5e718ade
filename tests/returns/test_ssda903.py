"""The SSDA903 return built from small stories: the tables the DfE validator recognises, dates as
dd/mm/YYYY, an episode open on 1 April, a child who went home and came back, a missing spell, a
care leaver's OC3 row, and a year with nothing in it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from app import clock
from app.care import service as care_service
from app.care.codes import ReasonEpisodeCeased, ReasonPlaceChange
from app.care.schemas import PlacementChange
from app.config import Settings, get_settings
from app.leavingcare import service as leaving_care_service
from app.leavingcare.codes import Accommodation, Activity, InTouch
from app.missing import service as missing_service
from app.models.cases import Case
from app.models.missing import MissingKind
from app.models.people import Person
from app.returns.ssda903 import TABLES, ChildWithoutId, build_ssda903
from tests.care.factories import (
    CareCast,
    bring_into_care,
    cease_care,
    foster_placement,
    make_care_cast,
    noon,
    principal,
)
from tests.factories import make_child
from tests.leavingcare.helpers import cease, in_care_since, young_person_cast

#: The validator's column sets (lac_validator/config.py), written out here so that a change to
#: the exporter's table list cannot silently agree with itself.
VALIDATOR_COLUMNS = {
    "Header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "Episodes": [
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ],
    "Reviews": ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
    "UASC": ["CHILD", "SEX", "DOB", "DUC"],
    "OC2": [
        "CHILD",
        "DOB",
        "SDQ_SCORE",
        "SDQ_REASON",
        "CONVICTED",
        "HEALTH_CHECK",
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
        "INTERVENTION_RECEIVED",
        "INTERVENTION_OFFERED",
    ],
    "OC3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "AD1": [
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ],
    "PlacedAdoption": [
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ],
    "PrevPerm": ["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"],
    "Missing": ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    "SWEpisodes": ["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
    "DoLo": ["CHILD", "DOB", "DOLO_START", "DOLO_END"],
}


def rows(tables: dict[str, str], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(tables[name])))


def settings() -> Settings:
    return get_settings()


def named(db: Session, child: Person, la_child_id: str) -> Person:
    """The council's id for the child: every SSDA903 row is keyed on it."""
    child.la_child_id = la_child_id
    db.flush()
    return child


def build(db: Session, year: int, *, on: date) -> dict[str, str]:
    with clock.frozen_at(noon(on)):
        return build_ssda903(db, year=year, settings=settings())


def move(db: Session, cast: CareCast, period_id: object, *, on: date, **placement: object) -> None:
    period = care_service.open_period(db, child_id=cast.child.id)
    assert period is not None
    assert period.id == period_id
    with clock.frozen_at(noon(on)):
        care_service.placement_change(
            db,
            actor=principal(db, cast.manager),
            period_id=period.id,
            expected_version=period.version,
            body=PlacementChange(
                start_date=on,
                placement=foster_placement(**placement),
                end_reason=ReasonPlaceChange.CREQO,
                planned_ending=True,
            ),
        )


def test_a_year_with_no_data_is_every_table_with_its_header_row_only(db: Session) -> None:
    tables = build(db, 2019, on=date(2026, 11, 27))

    assert set(tables) == {name for name in TABLES if name != "dolo.csv"}
    for name, text in tables.items():
        table = TABLES[name][0]
        assert text == ",".join(VALIDATOR_COLUMNS[table]) + "\n", name


def test_the_tables_carry_exactly_the_columns_the_validator_recognises(db: Session) -> None:
    cast = make_care_cast(db)
    named(db, cast.child, "SC0001")
    bring_into_care(db, cast, on=date(2026, 5, 4))

    for year, with_dolo in ((2026, False), (2027, True)):
        tables = build(db, year, on=date(2026, 11, 27))
        assert ("dolo.csv" in tables) is with_dolo
        for name, text in tables.items():
            header = next(csv.reader(io.StringIO(text)))
            assert header == VALIDATOR_COLUMNS[TABLES[name][0]], name


def test_an_episode_open_on_1_april_is_returned_with_its_own_start_and_the_move_after_it(
    db: Session,
) -> None:
    # Ava came into care in February 2025 and moved carers in June: the 2025-26 return carries
    # the episode she was in on 1 April (DECOM in the year before, RNE S) and the new one.
    cast = make_care_cast(db)
    named(db, cast.child, "SC0002")
    period = bring_into_care(db, cast, on=date(2025, 2, 10))
    move(
        db, cast, period.id, on=date(2025, 6, 2), carer_key="carer-2", placement_postcode="B29 6BD"
    )

    tables = build(db, 2026, on=date(2026, 11, 27))
    episodes = rows(tables, "episodes.csv")

    assert [
        (e["DECOM"], e["RNE"], e["DEC"], e["REC"], e["REASON_PLACE_CHANGE"]) for e in episodes
    ] == [
        ("10/02/2025", "S", "02/06/2025", "X1", "CREQO"),
        ("02/06/2025", "P", "", "", ""),
    ]
    assert episodes[0]["LS"] == "V2"
    assert episodes[0]["PLACE"] == "U6"
    header = rows(tables, "header.csv")
    assert [(h["CHILD"], h["SEX"], h["DOB"]) for h in header] == [("SC0002", "F", "01/05/2015")]
    # A girl of ten with nothing recorded: left blank, for rule 393 to put on the worklist.
    assert header[0]["MOTHER"] == ""

    # The 2024-25 return, as at 31 March 2025, had the first episode still open.
    earlier = rows(build(db, 2025, on=date(2026, 11, 27)), "episodes.csv")
    assert [(e["DECOM"], e["DEC"], e["REC"], e["REASON_PLACE_CHANGE"]) for e in earlier] == [
        ("10/02/2025", "", "", "")
    ]


def test_a_child_who_went_home_and_came_back_has_two_periods_each_starting_with_s(
    db: Session,
) -> None:
    cast = make_care_cast(db)
    named(db, cast.child, "SC0003")
    first = bring_into_care(db, cast, on=date(2025, 5, 1))
    cease_care(db, cast, first, on=date(2025, 8, 1))
    bring_into_care(db, cast, on=date(2025, 10, 6), case=db.get(Case, first.case_id))

    episodes = rows(build(db, 2026, on=date(2026, 11, 27)), "episodes.csv")

    assert [(e["DECOM"], e["RNE"], e["DEC"], e["REC"]) for e in episodes] == [
        ("01/05/2025", "S", "01/08/2025", ReasonEpisodeCeased.RETURNED_HOME_PLANNED.value),
        ("06/10/2025", "S", "", ""),
    ]


def test_a_missing_spell_while_looked_after_is_returned_in_english_dates(db: Session) -> None:
    # Gone at 23:30 on 31 May (BST, so 22:30 UTC) and back the next afternoon: the return has
    # the days as they were in England.
    cast = make_care_cast(db)
    named(db, cast.child, "SC0004")
    bring_into_care(db, cast, on=date(2025, 5, 1))
    with clock.frozen_at(noon(date(2025, 6, 2))):
        missing_service.missing_episode_record(
            db,
            actor=principal(db, cast.social_worker),
            child_id=cast.child.id,
            kind=MissingKind.M,
            started_at=datetime(2025, 5, 31, 22, 30, tzinfo=UTC),
            ended_at=datetime(2025, 6, 1, 15, 0, tzinfo=UTC),
        )

    missing = rows(build(db, 2026, on=date(2026, 11, 27)), "missing.csv")

    assert missing == [
        {
            "CHILD": "SC0004",
            "DOB": "01/05/2015",
            "MISSING": "M",
            "MIS_START": "31/05/2025",
            "MIS_END": "01/06/2025",
        }
    ]


def test_a_care_leaver_has_an_oc3_row_around_her_17th_birthday_and_a_header_row(
    db: Session,
) -> None:
    # Jay came into care at 15, left at 16 and is a relevant child; the contact in the weeks
    # before her 17th birthday (15 June 2026) is the 2026-27 OC3 row, though she is in no
    # episode that year.
    cast = young_person_cast(db)
    named(db, cast.child, "SC0005")
    period = in_care_since(db, cast, date(2025, 1, 6))
    cease(db, cast, period, on=date(2025, 10, 1))
    with clock.frozen_at(noon(date(2026, 6, 1))):
        leaving_care_service.contact_record(
            db,
            actor=principal(db, cast.social_worker),
            child_id=cast.child.id,
            contact_date=date(2026, 6, 1),
            in_touch=InTouch.YES,
            activity=Activity.F2,
            accommodation=Accommodation.D1,
            notes=None,
        )

    tables = build(db, 2027, on=date(2026, 11, 27))

    assert rows(tables, "oc3.csv") == [
        {"CHILD": "SC0005", "DOB": "15/06/2009", "IN_TOUCH": "YES", "ACTIV": "F2", "ACCOM": "D1"}
    ]
    assert rows(tables, "episodes.csv") == []
    assert [h["CHILD"] for h in rows(tables, "header.csv")] == ["SC0005"]
    # 2025-26 had her episodes and no OC3 row (no 17th-21st birthday that year).
    earlier = build(db, 2026, on=date(2026, 11, 27))
    assert rows(earlier, "oc3.csv") == []
    assert [e["REC"] for e in rows(earlier, "episodes.csv")] == ["E5"]


def test_a_care_leaver_whose_birthday_is_still_to_come_is_not_yet_due(db: Session) -> None:
    cast = young_person_cast(db)
    named(db, cast.child, "SC0006")
    period = in_care_since(db, cast, date(2025, 1, 6))
    cease(db, cast, period, on=date(2025, 10, 1))

    before = build(db, 2027, on=date(2026, 3, 2))
    after = build(db, 2027, on=date(2026, 7, 20))

    assert rows(before, "oc3.csv") == []
    # The window closed a month after the birthday with no contact: now it is on the worklist.
    assert rows(after, "oc3.csv") == [
        {"CHILD": "SC0006", "DOB": "15/06/2009", "IN_TOUCH": "", "ACTIV": "", "ACCOM": ""}
    ]


def test_a_restricted_child_is_in_the_return_and_rows_are_ordered_by_child(db: Session) -> None:
    cast = make_care_cast(db)
    named(db, cast.child, "SC0020")
    hidden = named(db, make_child(db, first_name="Rae"), "SC0010")
    bring_into_care(db, cast, on=date(2025, 5, 1))
    bring_into_care(db, cast, on=date(2025, 5, 2), child=hidden)
    hidden.is_restricted = True  # restricted after she came into care: still in the return
    db.flush()

    tables = build(db, 2026, on=date(2026, 11, 27))

    assert [h["CHILD"] for h in rows(tables, "header.csv")] == ["SC0010", "SC0020"]
    assert [e["CHILD"] for e in rows(tables, "episodes.csv")] == ["SC0010", "SC0020"]
    assert build(db, 2026, on=date(2026, 11, 27)) == tables  # the same bytes every time


def test_a_child_without_an_la_child_id_stops_the_return_with_a_clear_sentence(
    db: Session,
) -> None:
    cast = make_care_cast(db)
    bring_into_care(db, cast, on=date(2025, 5, 1))

    with pytest.raises(ChildWithoutId, match=r"1 children .* have no LA child id"):
        build(db, 2026, on=date(2026, 11, 27))


def test_a_toddler_without_a_upn_is_un1_and_not_a_mother(db: Session) -> None:
    # A toddler with no UPN: UN1 (under 6, not yet assigned) follows from her date of birth.
    cast = make_care_cast(db)
    cast.child.date_of_birth = date(2023, 3, 1)
    named(db, cast.child, "SC0030")
    bring_into_care(db, cast, on=date(2025, 5, 1))

    header = rows(build(db, 2026, on=date(2026, 11, 27)), "header.csv")

    assert header[0]["UPN"] == "UN1"
    # Nor can a two-year-old be a mother: MOTHER is 0 without anything to record (rule 393).
    assert (header[0]["MOTHER"], header[0]["MC_DOB"]) == ("0", "")
