"""A council moving to Casework loads its past SSDA903 returns, and the returns come back out.

The fixture returns (``fixtures/ssda903/year_2025`` for 2024-25 and ``year_2026`` for 2025-26)
hold the awkward cases: a child in care across the year start who was missing on 31 March
(D1001), a child who left care and came back in the same year (D1002), a legal-status change and a
placement change on one day (RNE U) followed by L, P and T changes (D1003), and a child whose
placement changed the year before and who left care on a special guardianship order (D1005).
D1006, an unaccompanied asylum-seeking child, turns 18 after leaving care; D1002's UASC status
ceases in the year. The social worker episodes include one open on 31 March 2025 that ends in the
next year (D1001, D1005), a gap with no worker (D1005), and one worker for both of D1002's periods.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import migrate
from app.audit.service import verify_chains
from app.care.codes import ReasonNewEpisode
from app.care.episodes import episodes_for_child
from app.cli import app as cli_app
from app.config import Settings, get_settings
from app.db import make_engine
from app.models.audit import CaseEvent, ChangeLog
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.cases import Allocation, Case
from app.models.deadlines import Deadline
from app.models.iro import CLAReview
from app.models.missing import MissingEpisode
from app.models.org import UserAccount
from app.models.people import Person
from app.models.permanence import Motherhood, UascStatus
from app.returns.common import CollectionYear, ImportReport
from app.returns.imports.ssda903 import IMPORTED_TABLES, TABLE_COLUMNS, import_ssda903
from app.returns.ssda903 import build_ssda903
from tests.conftest import fresh_database_url
from tests.factories import make_child, make_team
from tests.org.creators import make_case
from tests.returns.conftest import CURRENT_YEAR, DemoWorld

FIXTURES = Path(__file__).parent / "fixtures" / "ssda903"
COUNTED = (
    Person,
    Case,
    PeriodOfCare,
    LegalStatusRecord,
    Placement,
    CLAReview,
    MissingEpisode,
    Motherhood,
    UascStatus,
    Allocation,
    UserAccount,
    CaseEvent,
    ChangeLog,
    Deadline,
)


def a_return(name: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((FIXTURES / name).glob("*.csv"))}


def table_rows(tables: dict[str, str], table: str) -> list[tuple[str, ...]]:
    """The rows of ``table`` (found by its columns, as the validator finds it), in column order."""
    columns = TABLE_COLUMNS[table]
    for text in tables.values():
        reader = csv.DictReader(io.StringIO(text))
        if set(reader.fieldnames or ()) == set(columns):
            return sorted(tuple(row[c] for c in columns) for row in reader)
    return []


def counts(db: Session) -> dict[str, int]:
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED}


def imported(db: Session, name: str, *, tables: dict[str, str] | None = None) -> ImportReport:
    report = import_ssda903(db, tables or a_return(name), source=name)
    assert report.ok, report.describe()
    return report


def assert_round_trip(db: Session, settings: Settings, name: str, year: int) -> None:
    """The export of the year has the fixture's rows in every table the import reads, and nothing
    in the tables it does not (so nothing was invented on the way)."""
    original = a_return(name)
    exported = build_ssda903(db, year=year, settings=settings)
    for table in IMPORTED_TABLES:
        assert table_rows(exported, table) == table_rows(original, table), table
    for table in set(TABLE_COLUMNS) - set(IMPORTED_TABLES):
        assert table_rows(exported, table) == [], table


# --- round trips --------------------------------------------------------------------------------


def test_a_years_return_loaded_into_casework_is_exported_as_it_came(
    db: Session, settings: Settings
) -> None:
    report = imported(db, "year_2025")

    assert report.created == {
        "children": 4,
        "cases": 4,
        "periods of care": 4,
        "reviews": 3,
        "missing episodes": 2,
        "previous permanence": 3,
        "adoption decisions": 1,
        "UASC status": 1,
        "social worker accounts": 4,
        "social worker episodes": 4,
    }
    assert_round_trip(db, settings, "year_2025", 2025)


def test_two_years_loaded_oldest_first_each_export_as_they_came(
    db: Session, settings: Settings
) -> None:
    imported(db, "year_2025")
    report = imported(db, "year_2026")

    # D1001's, D1005's and D1007's periods, open on 31 March 2025, go on to their ends;
    # D1001's missing spell, open then too, ends on 2 April; D1007 is adopted.
    assert report.created["periods of care continued"] == 3
    assert report.created["missing episodes ended"] == 1
    assert report.created["adoptions"] == 1
    assert report.unchanged["children"] == 4
    assert report.created["care leaver contacts"] == 1
    # D1002's UASC status is new and ceases in the year; D1006's, open last year, now shows the
    # 18th birthday the export derives. D1001's and D1005's workers, open on 31 March 2025, end.
    assert report.created["UASC status"] == 1
    assert report.unchanged["UASC status"] == 1
    assert report.created["social worker episodes ended"] == 2
    assert report.created["social worker episodes"] == 5
    assert report.created["social worker accounts"] == 4  # SW100005 to SW100008
    assert_round_trip(db, settings, "year_2026", 2026)
    assert_round_trip(db, settings, "year_2025", 2025)


def test_a_legal_status_and_placement_change_on_one_day_is_one_episode(db: Session) -> None:
    imported(db, "year_2025")
    imported(db, "year_2026")
    child = db.scalar(select(Person).where(Person.la_child_id == "D1003"))
    assert child is not None

    episodes = episodes_for_child(db, child.id)

    assert [e.rne for e in episodes] == [
        ReasonNewEpisode.STARTED,
        ReasonNewEpisode.BOTH,
        ReasonNewEpisode.LEGAL_STATUS,
        ReasonNewEpisode.PLACEMENT,
        ReasonNewEpisode.PLACEMENT_SAME_CARER,
    ]
    statuses = db.scalars(
        select(LegalStatusRecord.legal_status).where(LegalStatusRecord.child_id == child.id)
    ).all()
    assert sorted(s.value for s in statuses) == ["C1", "C2", "L2"]


def test_a_child_who_left_care_and_came_back_has_two_periods(db: Session) -> None:
    imported(db, "year_2025")
    imported(db, "year_2026")
    child = db.scalar(select(Person).where(Person.la_child_id == "D1002"))
    assert child is not None

    periods = db.scalars(
        select(PeriodOfCare)
        .where(PeriodOfCare.child_id == child.id)
        .order_by(PeriodOfCare.start_date)
    ).all()

    assert [(p.state, p.reason_ceased) for p in periods] == [
        ("ceased", "E4A"),
        ("looked_after", None),
    ]
    cases = {db.get(Case, p.case_id) for p in periods}
    assert sorted((c.state, c.closure_reason) for c in cases if c) == [
        ("closed", "RC7"),
        ("looked_after", None),
    ]


def test_reimporting_the_same_returns_changes_nothing(db: Session, settings: Settings) -> None:
    imported(db, "year_2025")
    imported(db, "year_2026")
    before = counts(db)

    again_2025 = imported(db, "year_2025")
    again_2026 = imported(db, "year_2026")

    assert counts(db) == before
    assert again_2025.created == {}
    assert again_2026.created == {}
    assert again_2026.unchanged == {
        "children": 6,
        "periods of care": 6,
        "reviews": 6,
        "missing episodes": 3,
        "previous permanence": 2,
        "care leaver contacts": 1,
        "adoption decisions": 1,
        "adoptions": 1,
        "UASC status": 2,
        "social worker episodes": 7,
    }
    assert_round_trip(db, settings, "year_2026", 2026)


def test_a_return_that_disagrees_with_what_casework_holds_is_refused(db: Session) -> None:
    imported(db, "year_2025")
    changed = a_return("year_2025")
    # D1005's second placement had another Ofsted URN, says the file this time.
    changed["episodes.csv"] = changed["episodes.csv"].replace("SC345678", "SC345679")

    reasons = refused(db, changed)

    assert list(reasons) == ["episodes.csv line 3 (CHILD D1005)"]
    assert "whose episodes differ from the file's" in reasons["episodes.csv line 3 (CHILD D1005)"]


def test_a_child_already_in_casework_keeps_their_record_and_open_case(db: Session) -> None:
    """A looked-after child whose CIN case came over first (or who is known today) is matched by
    LA child id: their name stays, and the open period of care goes on their open case."""
    child = make_child(db, first_name="Dana", last_name="Known", date_of_birth=date(2015, 6, 10))
    child.la_child_id = "D1001"
    case = make_case(
        db, team=make_team(db), child=child, opened=date(2024, 12, 1), state="cin_plan"
    )

    report = imported(db, "year_2025")

    assert report.unchanged["children"] == 1
    assert (child.first_name, child.last_name) == ("Dana", "Known")
    period = db.scalar(select(PeriodOfCare).where(PeriodOfCare.child_id == child.id))
    assert period is not None
    assert period.case_id == case.id
    assert case.state == "looked_after"


def test_a_period_that_ceased_goes_on_the_childs_case_that_spans_it(db: Session) -> None:
    """A care leaver's CIN episode (migrated from the census first) spans their period of care:
    the period goes on that case rather than on a new one."""
    child = make_child(db, date_of_birth=date(2007, 5, 20))
    child.la_child_id = "D1006"
    case = make_case(
        db, team=make_team(db), child=child, opened=date(2023, 5, 2), closed=date(2025, 1, 31)
    )

    imported(db, "year_2025")

    period = db.scalar(select(PeriodOfCare).where(PeriodOfCare.child_id == child.id))
    assert period is not None
    assert period.case_id == case.id
    assert (case.state, case.closed_date) == ("closed", date(2025, 1, 31))


def test_migrated_records_say_they_came_from_migration_and_open_no_deadlines(
    db: Session,
) -> None:
    deadlines = db.scalar(select(func.count()).select_from(Deadline))
    imported(db, "year_2025")

    child = db.scalar(select(Person).where(Person.la_child_id == "D1005"))
    assert child is not None
    assert (child.first_name, child.last_name) == ("Unknown", "(imported LAchildID D1005)")
    events = db.scalars(select(CaseEvent).where(CaseEvent.child_id == child.id)).all()
    assert {(e.action, e.subject_type) for e in events} == {
        ("migrated", "case"),
        ("migrated", "period_of_care"),
        ("migrated", "cla_review"),
        ("migrated", "missing_episode"),
        ("migrated", "allocation"),
    }
    assert {e.reason for e in events} == {"Migrated from year_2025"}
    assert verify_chains(db) is None
    assert {e.actor_role for e in events} == {"data_officer"}
    assert db.scalar(select(func.count()).select_from(Deadline)) == deadlines
    reviews = db.scalars(select(CLAReview).where(CLAReview.child_id == child.id)).all()
    assert [(r.sequence, r.state) for r in sorted(reviews, key=lambda r: r.sequence)] == [
        (1, "record_completed"),
        (2, "record_completed"),
    ]


def test_a_later_return_alone_is_refused_where_care_began_in_an_earlier_year(
    db: Session,
) -> None:
    before = counts(db)

    report = import_ssda903(db, a_return("year_2026"), source="year_2026")

    assert not report.ok
    reasons = {r.record: r.reason for r in report.rejections}
    assert list(reasons) == [
        "episodes.csv line 10 (CHILD D1005)",
        "episodes.csv line 11 (CHILD D1007)",
        "reviews.csv line 7 (CHILD D1005)",
        "placed_for_adoption.csv line 2 (CHILD D1007)",
        "ad1.csv line 2 (CHILD D1007)",
        "oc3.csv line 2 (CHILD D1006)",
        "uasc.csv line 3 (CHILD D1006)",
        "sw_episodes.csv line 8 (CHILD D1005)",
    ]
    assert "import the earlier year's return first" in reasons["episodes.csv line 10 (CHILD D1005)"]
    assert "not within a period of care" in reasons["reviews.csv line 7 (CHILD D1005)"]
    assert (
        "import the return of the year they left care first"
        in reasons["oc3.csv line 2 (CHILD D1006)"]
    )
    assert counts(db) == before


def test_the_demo_councils_history_migrates_year_by_year_and_exports_the_same(
    demo_world: DemoWorld, demo_session: Session, db: Session, settings: Settings
) -> None:
    """Every SSDA903 return of the demo council, from the year its first period of care began,
    loaded oldest first into an empty Casework: each year exports again as it was sent. OC2 is
    left out of the files (Casework does not import it yet)."""
    first = demo_session.scalar(select(func.min(PeriodOfCare.start_date)))
    assert first is not None
    years = range(CollectionYear.containing(first).year, CURRENT_YEAR + 1)
    sent = {
        year: {
            name: text
            for name, text in build_ssda903(
                demo_session, year=year, settings=demo_world.settings
            ).items()
            if name != "oc2.csv"
        }
        for year in years
    }

    for year in years:
        imported(db, "demo", tables=sent[year])

    for year in years:
        again = build_ssda903(db, year=year, settings=settings)
        for table in IMPORTED_TABLES:
            assert table_rows(again, table) == table_rows(sent[year], table), (year, table)
    assert table_rows(sent[CURRENT_YEAR], "Episodes")  # the demo has children in care
    assert table_rows(sent[CURRENT_YEAR], "SWEpisodes")  # and their social workers


# --- bad input ----------------------------------------------------------------------------------

HEADER = ",".join(TABLE_COLUMNS["Header"])
EPISODES = ",".join(TABLE_COLUMNS["Episodes"])
MISSING = ",".join(TABLE_COLUMNS["Missing"])
ONE_CHILD = f"{HEADER}\nX1,M,01/01/2015,WBRI,,,\n"


def refused(db: Session, tables: dict[str, str]) -> dict[str, str]:
    """The import's rejections by record, after checking it wrote nothing."""
    before = counts(db)
    report = import_ssda903(db, tables, source="bad")
    assert not report.ok
    assert counts(db) == before
    assert "nothing imported" in report.describe()
    return {r.record: r.reason for r in report.rejections}


def test_files_that_are_not_ssda903_tables_are_refused_naming_the_columns(db: Session) -> None:
    episodes_without_dec = EPISODES.replace(",DEC,", ",") + "\n"

    reasons = refused(
        db,
        {
            "header.csv": ONE_CHILD,
            "episodes.csv": episodes_without_dec,
            "photo.csv": "\x89PNG\x00\x00binary",
            "notes.csv": "Name,Comment\nA,B\n",
        },
    )

    assert "the SSDA903 Episodes table, which has exactly CHILD, DECOM" in reasons["episodes.csv"]
    assert "(missing DEC)" in reasons["episodes.csv"]
    assert "not a CSV text file" in reasons["photo.csv"]
    assert "not those of any SSDA903 table" in reasons["notes.csv"]
    assert "Header: CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB" in reasons["notes.csv"]


def test_unknown_codes_are_refused_row_by_row(db: Session) -> None:
    reasons = refused(
        db,
        {
            "header.csv": f"{HEADER}\nX1,3,01/01/2015,WXYZ,,,\nX2,F,01/01/2015,WBRI,,,\n",
            "episodes.csv": f"{EPISODES}\nX2,01/05/2025,S,Z9,N9,Q1,PR1,,,,,,\n",
            "reviews.csv": "CHILD,DOB,REVIEW,REVIEW_CODE\nX2,01/01/2015,01/06/2025,PN9\n",
            "missing.csv": f"{MISSING}\nX2,01/01/2015,X,01/06/2025,\n",
        },
    )

    assert reasons["header.csv line 2 (CHILD X1)"].startswith("SEX '3' is not M, F or U")
    assert "ETHNIC 'WXYZ' is not an SSDA903 code" in reasons["header.csv line 2 (CHILD X1)"]
    episode = reasons["episodes.csv line 2 (CHILD X2)"]
    assert "LS 'Z9' is not an SSDA903 code" in episode
    assert "CIN 'N9' is not a category of need N1-N8 (rule 145)" in episode
    assert "PLACE 'Q1' is not an SSDA903 code" in episode
    assert "REVIEW_CODE 'PN9' is not one of PN0-PN7" in reasons["reviews.csv line 2 (CHILD X2)"]
    assert "MISSING 'X' is not M (missing) or A (away)" in reasons["missing.csv line 2 (CHILD X2)"]


def test_impossible_dates_are_refused(db: Session) -> None:
    reasons = refused(
        db,
        {
            "header.csv": ONE_CHILD,
            "episodes.csv": (
                f"{EPISODES}\n"
                "X1,01/05/2025,S,V2,N4,U6,PR1,30/04/2025,E4A,,,,\n"
                "X1,31/02/2026,S,V2,N4,U6,PR1,,,,,,\n"
            ),
            "missing.csv": f"{MISSING}\nX1,01/01/2015,M,10/05/2025,09/05/2025\n",
        },
    )

    assert reasons["episodes.csv line 2 (CHILD X1)"] == (
        "DEC 30/04/2025 is not after DECOM 01/05/2025: an episode lasts at least a day (rule 355)."
    )
    assert reasons["episodes.csv line 3 (CHILD X1)"] == (
        "DECOM '31/02/2026' is not a date in the form dd/mm/YYYY."
    )
    assert (
        "MIS_END 09/05/2025 is before MIS_START 10/05/2025"
        in reasons["missing.csv line 2 (CHILD X1)"]
    )


def test_a_child_twice_in_the_header_and_overlapping_episodes_are_refused(db: Session) -> None:
    reasons = refused(
        db,
        {
            "header.csv": f"{HEADER}\nX1,M,01/01/2015,WBRI,,,\nX1,M,01/01/2015,WBRI,,,\n"
            "X3,F,01/01/2015,WBRI,,0,\n",
            "episodes.csv": (
                f"{EPISODES}\n"
                "X3,01/05/2025,S,V2,N4,U6,PR1,01/08/2025,E4A,,,,\n"
                "X3,01/07/2025,S,C1,N1,U6,PR1,,,,,,\n"
            ),
        },
    )

    assert reasons["header.csv line 3 (CHILD X1)"] == (
        "The child is in the Header twice (also header.csv line 2 (CHILD X1))."
    )
    assert "episodes do not overlap" in reasons["episodes.csv line 3 (CHILD X3)"]


def test_care_leaver_and_previous_permanence_rows_are_checked(db: Session) -> None:
    reasons = refused(
        db,
        {
            "header.csv": ONE_CHILD,
            "episodes.csv": f"{EPISODES}\nX1,01/05/2025,S,V2,N4,U6,PR1,,,,,,\n",
            "oc3.csv": "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\nX1,01/01/2015,YES,,\n",
            "prev_perm.csv": (
                "CHILD,DOB,PREV_PERM,LA_PERM,DATE_PERM\n"
                "X1,01/01/2015,Z1,330,\n"
                "X1,01/01/2015,P1,,31-12-2019\n"
            ),
        },
    )

    assert reasons["oc3.csv line 2 (CHILD X1)"] == (
        "IN_TOUCH, ACTIV and ACCOM are recorded together (rule 153)."
    )
    assert reasons["prev_perm.csv line 2 (CHILD X1)"] == (
        "PREV_PERM Z1 (no previous permanence) has no LA_PERM or DATE_PERM."
    )
    assert "DATE_PERM '31-12-2019' is not dd/mm/YYYY" in reasons["prev_perm.csv line 3 (CHILD X1)"]


def test_adoption_rows_that_do_not_fit_the_episodes_are_refused(db: Session) -> None:
    reasons = refused(
        db,
        {
            "header.csv": ONE_CHILD,
            "episodes.csv": f"{EPISODES}\nX1,01/05/2025,S,C2,N1,U6,PR1,,,,,,\n",
            "placed_for_adoption.csv": (
                "CHILD,DOB,DATE_PLACED,DATE_PLACED_CEASED,REASON_PLACED_CEASED\n"
                "X1,01/01/2015,01/06/2025,,RD1\n"
                "X1,01/01/2015,01/03/2025,,\n"
            ),
            "ad1.csv": (
                "CHILD,DOB,DATE_INT,DATE_MATCH,FOSTER_CARE,NB_ADOPTR,SEX_ADOPTR,LS_ADOPTR\n"
                "X1,01/01/2015,01/07/2025,01/08/2025,0,3,MF,L11\n"
            ),
        },
    )

    assert reasons["placed_for_adoption.csv line 2 (CHILD X1)"] == (
        "DATE_PLACED_CEASED and REASON_PLACED_CEASED come together (rule 119)."
    )
    assert "not within a period of care" in reasons["placed_for_adoption.csv line 3 (CHILD X1)"]
    assert reasons["ad1.csv line 2 (CHILD X1)"] == "NB_ADOPTR '3' is not 1 or 2 (rule 175)."


def test_a_care_leaver_without_a_birthday_in_the_year_is_refused(db: Session) -> None:
    imported(db, "year_2025")
    reasons = refused(
        db,
        {
            # A 2025-26 return (the review's date says so): D1006 was 17 in 2024-25 and is 18
            # in 2025-26, so an OC3 row is due; D1005, aged 11, is no care leaver of OC3 age.
            "reviews.csv": "CHILD,DOB,REVIEW,REVIEW_CODE\nD1001,10/06/2015,01/05/2025,PN1\n",
            "oc3.csv": "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\nD1005,14/02/2014,YES,F2,B1\n",
        },
    )
    assert "has none in that year (rule 391)" in reasons["oc3.csv line 2 (CHILD D1005)"]


def test_a_table_casework_does_not_import_yet_is_refused_only_when_it_has_rows(
    db: Session,
) -> None:
    oc2 = ",".join(TABLE_COLUMNS["OC2"])
    reasons = refused(
        db,
        {"header.csv": ONE_CHILD, "oc2.csv": f"{oc2}\nX1,01/01/2015,,,0,1,1,1,1,0,,\n"},
    )
    assert "does not import the OC2 table yet, and its 1 rows would be lost" in reasons["oc2.csv"]

    dolo = ",".join(TABLE_COLUMNS["DoLo"])
    reasons = refused(
        db, {"header.csv": ONE_CHILD, "dolo.csv": f"{dolo}\nX1,01/01/2015,01/06/2025,\n"}
    )
    assert "no record of deprivation of liberty orders" in reasons["dolo.csv"]

    report = import_ssda903(db, {"header.csv": ONE_CHILD, "oc2.csv": f"{oc2}\n"}, source="ok")
    assert report.ok, report.describe()
    assert report.created == {"children": 1}


def test_a_known_child_born_on_another_day_is_refused_as_a_mismatch(db: Session) -> None:
    imported(db, "year_2025")
    reasons = refused(db, {"header.csv": f"{HEADER}\nD1005,M,15/02/2014,MWBC,,,\n"})
    assert "was born on 14/02/2014, not 15/02/2014" in reasons["header.csv line 2 (CHILD D1005)"]


# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The ``casework`` command on a fresh, migrated database of the backend tested."""
    url = fresh_database_url(tmp_path, "import903")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_casework_import_ssda903_loads_a_directory_and_refuses_a_bad_one(
    operator: CliRunner, tmp_path: Path
) -> None:
    ok = operator.invoke(cli_app, ["import", "ssda903", str(FIXTURES / "year_2025")])
    assert ok.exit_code == 0, ok.output
    assert "year_2025: imported" in ok.output
    assert "4 children" in ok.output

    again = operator.invoke(cli_app, ["import", "ssda903", str(FIXTURES / "year_2025")])
    assert again.exit_code == 0, again.output
    assert "imported nothing new" in again.output

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "header.csv").write_text(f"{HEADER}\nX1,M,01/01/2015,WBRI,,,\nX1,M,01/01/2015,WBRI,,,\n")
    refused_run = operator.invoke(cli_app, ["import", "ssda903", str(bad)])
    assert refused_run.exit_code == 1
    assert "bad: nothing imported, 1 records rejected" in refused_run.output
    assert "The child is in the Header twice" in refused_run.output


# --- unaccompanied asylum-seeking children and social worker episodes ---------------------------

UASC = ",".join(TABLE_COLUMNS["UASC"])
SW_EPISODES = ",".join(TABLE_COLUMNS["SWEpisodes"])
#: X1 (born 1 January 2015) comes into care on 1 May 2025 and is still in care on 31 March 2026.
IN_CARE = {
    "header.csv": ONE_CHILD,
    "episodes.csv": f"{EPISODES}\nX1,01/05/2025,S,V2,N4,U6,PR1,,,,,,\n",
}


def test_an_unaccompanied_asylum_seeking_child_is_recorded_from_their_first_period_of_care(
    db: Session, settings: Settings
) -> None:
    imported(db, "year_2025")
    imported(db, "year_2026")
    child = db.scalar(select(Person).where(Person.la_child_id == "D1002"))
    assert child is not None

    status = db.scalar(select(UascStatus).where(UascStatus.child_id == child.id))

    # The return gives no start: the status is held from the first period of care.
    assert status is not None
    assert (status.since_date, status.ceased_date) == (date(2025, 5, 1), date(2026, 2, 15))
    assert status.ceased_reason is not None
    assert "year_2026" in status.ceased_reason


def test_social_workers_unknown_to_casework_get_placeholder_accounts_that_cannot_sign_in(
    db: Session,
) -> None:
    imported(db, "year_2025")

    worker = db.scalar(select(UserAccount).where(UserAccount.swe_registration_number == "SW100002"))

    assert worker is not None
    assert worker.display_name == "Social worker SW100002 (migrated)"
    assert worker.role == "social_worker"
    assert (worker.is_active, worker.password_hash) == (False, None)


def test_a_workers_episodes_sit_on_the_case_of_each_period_of_care(db: Session) -> None:
    imported(db, "year_2025")
    imported(db, "year_2026")
    child = db.scalar(select(Person).where(Person.la_child_id == "D1002"))
    assert child is not None

    periods = db.scalars(
        select(PeriodOfCare)
        .where(PeriodOfCare.child_id == child.id)
        .order_by(PeriodOfCare.start_date)
    ).all()
    allocated = db.scalars(
        select(Allocation.case_id)
        .join(Case, Case.id == Allocation.case_id)
        .where(Case.child_id == child.id, Allocation.worker_id.is_not(None))
        .order_by(Allocation.started_at)
    ).all()

    # D1002 left care and came back: SW100006 held each period's case in turn.
    assert allocated == [p.case_id for p in periods]


def test_a_worker_who_still_holds_a_care_leaver_keeps_the_case_open(
    db: Session, settings: Settings
) -> None:
    """Care ends on 20 August 2025 (RNE S ... E4A); a new worker takes over on 1 September and
    still holds the young person on 31 March: the migrated case reopens as leaving care."""
    tables = {
        "header.csv": ONE_CHILD,
        "episodes.csv": f"{EPISODES}\nX1,01/05/2025,S,V2,N4,U6,PR1,20/08/2025,E4A,,,,\n",
        "sw_episodes.csv": (
            f"{SW_EPISODES}\n"
            "X1,01/01/2015,SWX1,01/05/2025,01/09/2025,FCONTA\n"
            "X1,01/01/2015,SWX2,01/09/2025,,TSPROC\n"
        ),
    }
    report = imported(db, "x1", tables=tables)

    assert report.created["cases reopened for leaving care"] == 1
    case = db.scalar(select(Case).join(Person).where(Person.la_child_id == "X1"))
    assert case is not None
    assert (case.state, case.closed_date) == ("care_leaver", None)
    exported = build_ssda903(db, year=2026, settings=settings)
    assert table_rows(exported, "SWEpisodes") == table_rows(tables, "SWEpisodes")
    assert import_ssda903(db, tables, source="x1").created == {}


def test_uasc_rows_that_cannot_be_true_are_refused(db: Session) -> None:
    reasons = refused(
        db,
        IN_CARE
        | {
            "header.csv": f"{HEADER}\nX1,M,01/01/2015,WBRI,,,\nX2,F,01/06/2006,WBRI,,,\n"
            "X3,F,01/06/2010,WBRI,,,\n",
            "episodes.csv": f"{EPISODES}\nX1,01/05/2025,S,V2,N4,U6,PR1,,,,,,\n"
            "X2,01/05/2024,S,V2,N4,U6,PR1,01/06/2024,E4A,,,,\n",
            "uasc.csv": (
                f"{UASC}\n"
                "X1,M,01/01/2015,31/12/2014\n"
                "X2,F,01/06/2006,\n"
                "X3,F,01/06/2010,\n"
                "X4,F,01/06/2008,02/06/2026\n"
            ),
        },
    )

    assert reasons["uasc.csv line 2 (CHILD X1)"] == "DUC 31/12/2014 is before DOB 01/01/2015."
    assert (
        "turned 18 on 01/06/2024, when UASC status ends (rule 304)"
        in (reasons["uasc.csv line 3 (CHILD X2)"])
    )
    assert (
        "neither the file nor Casework holds a period of care"
        in (reasons["uasc.csv line 4 (CHILD X3)"])
    )
    assert "is after the 18th birthday" in reasons["uasc.csv line 5 (CHILD X4)"]


def test_social_worker_episodes_that_cannot_be_true_are_refused(db: Session) -> None:
    reasons = refused(
        db,
        IN_CARE
        | {
            "header.csv": f"{HEADER}\nX1,M,01/01/2015,WBRI,,,\nX2,F,01/06/2010,WBRI,,,\n",
            "sw_episodes.csv": (
                f"{SW_EPISODES}\n"
                "X1,01/01/2015,SWX1,01/05/2025,01/09/2025,BORED\n"
                "X1,01/01/2015,SWX1,01/09/2025,01/08/2025,FCONTA\n"
                "X1,01/01/2015,SWX2,01/05/2025,,\n"
                "X1,01/01/2015,SWX3,01/06/2025,,MANAGE\n"
                "X1,01/01/2015,SWX4,01/07/2025,,MANAGE\n"
                "X1,02/01/2015,SWX5,01/08/2025,,MANAGE\n"
                "X2,01/06/2010,SWX6,01/08/2025,,FCONTA\n"
            ),
        },
    )

    assert (
        "SW_REASON 'BORED' is not an SSDA903 code" in reasons["sw_episodes.csv line 2 (CHILD X1)"]
    )
    assert reasons["sw_episodes.csv line 3 (CHILD X1)"] == (
        "SW_DEC 01/08/2025 is not after SW_DECOM 01/09/2025: a social worker episode lasts at "
        "least a day."
    )
    assert reasons["sw_episodes.csv line 4 (CHILD X1)"] == "SW_REASON is missing (rule SW15)."
    assert "do not overlap (rule SW10)" in reasons["sw_episodes.csv line 6 (CHILD X1)"]
    assert "is not the child's date of birth" in reasons["sw_episodes.csv line 7 (CHILD X1)"]
    assert "holds a case of this child" in reasons["sw_episodes.csv line 8 (CHILD X2)"]


def test_a_return_whose_workers_or_uasc_disagree_with_casework_is_refused(db: Session) -> None:
    imported(db, "year_2025")
    imported(db, "year_2026")
    tables = a_return("year_2026")
    tables["sw_episodes.csv"] = tables["sw_episodes.csv"].replace(
        "SW100001,15/01/2025,01/09/2025", "SW100001,15/01/2025,02/09/2025"
    )
    tables["uasc.csv"] = tables["uasc.csv"].replace("15/02/2026", "16/02/2026")

    reasons = refused(db, tables)

    assert reasons["sw_episodes.csv line 2 (CHILD D1001)"] == (
        "Casework holds this episode as ended on 01/09/2025, where SW_DEC is 02/09/2025: correct "
        "the record in Casework or the file so that they agree."
    )
    assert (
        "as ceasing on 15/02/2026, where DUC is 16/02/2026"
        in (reasons["uasc.csv line 2 (CHILD D1002)"])
    )
