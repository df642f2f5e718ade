"""The disposal job: destroy each record whose retention period is over, one person at a time.

Each person is one transaction: their record is destroyed across every table, a
``RecordDisposal`` row (no personal data) and a change-log entry are written, and it all commits
together, or (a crash, a hold placed meanwhile, a row the job did not expect) nothing of it does.
A second run finds nothing left to do: the person is gone and ``RecordDisposal.person_id`` is
unique. A person under a legal hold, or not yet due, is not touched.

Which rows are the person's is read off the model's foreign keys, not a list kept by hand, so a
table added later cannot be forgotten: every row that refers to the person, or to a row being
destroyed, is destroyed too. The change log (which has no foreign key) loses its entries about any
destroyed row; a contact (shared by the children it is about) goes with the last of them. Adults
linked to the child only (a parent, a relative) go with the record; an adult
another record still refers to stays, and another child (a sibling) is never destroyed with this
one: their record has its own retention date. The append-only audit tables let these deletes
through only for ids written to ``disposal_marker`` in this transaction (migration 0011); the
marker is emptied before the commit.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app import clock
from app.audit.service import change_log_append
from app.config import Settings
from app.errors import Invalid
from app.models.audit import CaseEvent, ChangeLog
from app.models.base import Base
from app.models.people import Person, PersonKind, PersonRelationship
from app.models.retention import RecordDisposal
from app.models.retention_marker import DisposalMarker
from app.retention.rules import decide
from app.retention.service import held_person_ids, records_due, retention_facts
from app.security.principal import Principal

log = logging.getLogger(__name__)

CHUNK = 500
#: Records shared by several children through a link table: the parent row goes with the last of
#: its children (a contact about two siblings holds the referrer's account of both: it stays while
#: either child's record does). Parent table -> (link table, link column).
OWNED_THROUGH: dict[str, tuple[str, str]] = {"contact": ("contact_child", "contact_id")}
#: Tables the job writes itself, never part of what it destroys.
_NOT_A_RECORD = frozenset({"record_disposal", "disposal_marker"})


class DisposalAborted(Exception):
    """The job met something it must not destroy; the person's transaction is rolled back."""


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in _NOT_A_RECORD]


def _pk(table: Table) -> Any:
    (column,) = table.primary_key.columns
    return column


def _closure(session: Session, doomed: dict[str, set[Any]]) -> None:
    """Grow ``doomed`` (table name -> ids) with every row that refers to a doomed row, until
    nothing new is found (the foreign keys of the whole model, walked to a fixed point)."""
    tables = _tables()
    frontier = {name: set(ids) for name, ids in doomed.items() if ids}
    while frontier:
        found: dict[str, set[Any]] = defaultdict(set)
        for table in tables:
            for fk in table.foreign_keys:
                target = fk.column.table.name
                new_ids = frontier.get(target)
                if not new_ids:
                    continue
                pk = _pk(table)
                for chunk in _chunks(sorted(new_ids, key=str)):
                    for (row_id,) in session.execute(select(pk).where(fk.parent.in_(list(chunk)))):
                        if row_id not in doomed[table.name]:
                            found[table.name].add(row_id)
        for name, ids in found.items():
            doomed[name] |= ids
        frontier = {name: ids for name, ids in found.items() if ids}


def _referenced_elsewhere(
    session: Session, person_id: uuid.UUID, doomed: dict[str, set[Any]]
) -> bool:
    """Does any row the job is not destroying refer to this person?"""
    for table in _tables():
        for fk in table.foreign_keys:
            if fk.column.table.name != "person":
                continue
            pk = _pk(table)
            for (row_id,) in session.execute(select(pk).where(fk.parent == person_id)):
                if row_id not in doomed[table.name]:
                    return True
    return False


def _record_rows(session: Session, child_id: uuid.UUID) -> dict[str, set[Any]]:
    """Every row of the child's record, and of the adults who belong to it alone."""
    doomed: dict[str, set[Any]] = defaultdict(set)
    doomed["person"].add(child_id)
    _closure(session, doomed)
    # The other people the child's relationships name: adults only (a sibling is a record of its
    # own), and only those no surviving row refers to.
    related = {
        other
        for row in session.execute(
            select(PersonRelationship.person_id, PersonRelationship.related_person_id).where(
                PersonRelationship.id.in_(list(doomed["relationship"]) or [uuid.uuid4()])
            )
        )
        for other in row
        if other != child_id
    }
    adults = (
        set(
            session.scalars(
                select(Person.id).where(
                    Person.id.in_(list(related)), Person.kind == PersonKind.adult
                )
            )
        )
        if related
        else set()
    )
    changed = True
    while changed:
        changed = False
        for adult_id in sorted(adults - doomed["person"], key=str):
            if not _referenced_elsewhere(session, adult_id, doomed):
                doomed["person"].add(adult_id)
                _closure(session, doomed)
                changed = True
        if _take_orphaned_parents(session, doomed):
            _closure(session, doomed)
            changed = True
    _check_no_other_child(session, child_id, doomed)
    return doomed


def _take_orphaned_parents(session: Session, doomed: dict[str, set[Any]]) -> bool:
    """Add to ``doomed`` each shared parent row (``OWNED_THROUGH``) none of whose links survive;
    True when one was added."""
    added = False
    tables = Base.metadata.tables
    for parent, (link, column_name) in OWNED_THROUGH.items():
        link_table = tables[link]
        column, pk = link_table.columns[column_name], _pk(link_table)
        doomed_links = sorted(doomed.get(link, ()), key=str)
        parents: set[Any] = set()
        for chunk in _chunks(doomed_links):
            parents |= set(session.scalars(select(column).where(pk.in_(list(chunk)))))
        for parent_id in sorted(parents - doomed[parent], key=str):
            links = set(session.scalars(select(pk).where(column == parent_id)))
            if links <= doomed[link]:
                doomed[parent].add(parent_id)
                added = True
    return added


def _check_no_other_child(
    session: Session, child_id: uuid.UUID, doomed: dict[str, set[Any]]
) -> None:
    """Refuse to go on if the walk reached a row of another child's record (a row with a
    ``child_id`` that is not this child): a model change that would make the job destroy more than
    one record is caught here, not after the fact."""
    for table in _tables():
        column = table.columns.get("child_id")
        ids = doomed.get(table.name)
        if column is None or not ids:
            continue
        for chunk in _chunks(sorted(ids, key=str)):
            others = session.execute(
                select(column).where(_pk(table).in_(list(chunk)), column != child_id).limit(1)
            ).first()
            if others is not None:
                raise DisposalAborted(f"{table.name} rows of another child were reached")


def _chain_digest(session: Session, case_ids: set[Any]) -> tuple[int, str]:
    """The number of case chronologies removed and a digest of their last links: proof of which
    chains were removed, without their content."""
    heads: list[str] = []
    for chunk in _chunks(sorted(case_ids, key=str)):
        rows = session.execute(
            select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).where(
                CaseEvent.case_id.in_(list(chunk))
            )
        ).all()
        last: dict[Any, tuple[int, str]] = {}
        for case_id, seq, digest in rows:
            if case_id not in last or seq > last[case_id][0]:
                last[case_id] = (seq, digest)
        heads += [f"{cid}:{seq}:{h}" for cid, (seq, h) in last.items()]
    return len(heads), hashlib.sha256("\n".join(sorted(heads)).encode()).hexdigest()


def _destroy(session: Session, doomed: dict[str, set[Any]], run_id: uuid.UUID) -> dict[str, int]:
    """Delete every doomed row (children before parents) and the change log's entries about them;
    return the counts per table.

    The ids go into ``disposal_marker`` first (the audit triggers' pass), and each table's rows go
    in ONE statement that selects them from there: a row pointing at another row of its own table
    (a correction, a re-referral's previous referral) is checked at the end of the statement, so
    the order within a table cannot matter, and no list of ids can outgrow a statement's
    parameters.
    """
    all_ids = sorted({i for ids in doomed.values() for i in ids}, key=str)
    for chunk in _chunks(all_ids):
        session.execute(insert(DisposalMarker), [{"entity_id": i, "run_id": run_id} for i in chunk])
    marked = select(DisposalMarker.entity_id).where(DisposalMarker.run_id == run_id)
    counts: dict[str, int] = {}
    result = session.execute(delete(ChangeLog).where(ChangeLog.entity_id.in_(marked)))
    if result.rowcount:  # type: ignore[attr-defined]
        counts["change_log"] = result.rowcount  # type: ignore[attr-defined]
    for table in reversed(_tables()):
        expected = len(doomed.get(table.name, ()))
        if not expected:
            continue
        result = session.execute(delete(table).where(_pk(table).in_(marked)))
        if result.rowcount != expected:  # type: ignore[attr-defined]
            raise DisposalAborted(f"{table.name}: {result.rowcount} rows deleted, {expected} meant")  # type: ignore[attr-defined]
        counts[table.name] = expected
    session.execute(delete(DisposalMarker).where(DisposalMarker.run_id == run_id))
    return counts


@dataclass
class DisposalSummary:
    run_id: uuid.UUID
    as_of: date
    dry_run: bool
    disposed: list[uuid.UUID] = field(default_factory=list)
    held: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    # In a dry run: who would have been disposed of.
    would_dispose: list[uuid.UUID] = field(default_factory=list)


def _dispose_one(
    session: Session,
    *,
    person_id: uuid.UUID,
    settings: Settings,
    as_of: date,
    run_id: uuid.UUID,
    actor: Principal | None,
) -> str:
    """One person's transaction: 'disposed', 'held', or 'not_due' (checked again here, under a
    lock on the person, in case a hold was placed or a case reopened since the list was read)."""
    locked = session.execute(
        select(Person.id).where(Person.id == person_id).with_for_update()
    ).first()
    if locked is None:
        return "not_due"  # already gone (another run)
    if held_person_ids(session, [person_id]):
        return "held"
    facts = retention_facts(session, person_ids=[person_id])
    decision = decide(facts[0], settings) if facts else None
    if decision is None or decision.disposal_due is None or decision.disposal_due > as_of:
        return "not_due"
    doomed = _record_rows(session, person_id)
    chains, digest = _chain_digest(session, doomed.get("case", set()))
    counts = _destroy(session, doomed, run_id)
    disposal = RecordDisposal(
        id=uuid.uuid4(),
        person_id=person_id,
        rule=decision.rule.value,
        disposal_due=decision.disposal_due,
        disposed_at=clock.now(),
        run_id=run_id,
        disposed_by_id=actor.user_id if actor else None,
        rows_removed={
            "tables": counts,
            "people": len(doomed["person"]),
            "audit_chains": chains,
            "audit_chain_digest": digest,
        },
    )
    session.add(disposal)
    session.flush()
    change_log_append(
        session,
        actor=actor,
        entity_type="record_disposal",
        entity_id=disposal.id,
        action="dispose",
        changes={
            "person_id": person_id,
            "rule": disposal.rule,
            "disposal_due": disposal.disposal_due,
            "run_id": run_id,
            "rows_removed": disposal.rows_removed,
        },
    )
    return "disposed"


def dispose_due(
    factory: sessionmaker[Session],
    *,
    settings: Settings,
    as_of: date | None = None,
    dry_run: bool = False,
    actor: Principal | None = None,
) -> DisposalSummary:
    """Run the job as of ``as_of`` (default today; never a later day, which would destroy records
    early; a dry run may look ahead). One transaction per person."""
    today = clock.today()
    day = as_of or today
    if day > today and not dry_run:
        raise Invalid.field(
            "as_of",
            "Records can only be disposed of as of today or an earlier day (a dry run "
            "may look ahead).",
        )
    summary = DisposalSummary(run_id=uuid.uuid4(), as_of=day, dry_run=dry_run)
    with factory() as session:
        due = records_due(session, settings=settings, as_of=day)
    for record in due:
        if record.held:
            summary.held.append(record.person_id)
            continue
        if dry_run:
            summary.would_dispose.append(record.person_id)
            continue
        with factory() as session:
            try:
                outcome = _dispose_one(
                    session,
                    person_id=record.person_id,
                    settings=settings,
                    as_of=day,
                    run_id=summary.run_id,
                    actor=actor,
                )
                session.commit()
            except (DisposalAborted, SQLAlchemyError) as exc:
                session.rollback()
                # Ids only: no personal data in logs.
                log.error(
                    "disposal of person %s failed and was rolled back: %s",
                    record.person_id,
                    type(exc).__name__,
                )
                summary.failed.append(record.person_id)
                continue
        if outcome == "disposed":
            summary.disposed.append(record.person_id)
        elif outcome == "held":
            summary.held.append(record.person_id)
    log.info(
        "retention run %s as of %s: %d disposed, %d held, %d failed%s",
        summary.run_id,
        day,
        len(summary.disposed),
        len(summary.held),
        len(summary.failed),
        " (dry run)" if dry_run else "",
    )
    return summary
