"""SSDA903 episodes, derived from a period's legal-status history and placement history.

An episode is a stretch of care with one legal status and one placement (returns.md). Casework
never stores episodes: they follow from the two histories, so a worker never types an RNE or REC
code and the return can never disagree with the record.

How the histories' dates map to episodes (and why):

* A legal status or placement runs from its ``start_date`` to its ``end_date``; when the next one
  starts, the previous one's ``end_date`` is **the same day** as the next one's ``start_date``,
  because SSDA903 closes an episode and opens the next on one date (DEC of one = DECOM of the next:
  validator rules 142, 433, 501). A period's ``end_date`` is the DEC of its last episode.
* Every date on which a legal status or a placement starts is the DECOM of exactly one episode;
  a legal-status change and a placement change on the same day make **one** new episode (RNE U or
  B), never two, so no episode lasts less than a day (rule 355).
* RNE: S for the first episode of a period (rules 357, 431, 432); then L when only the legal status
  changed, P when only the placement changed and the carer(s) changed, T when only the placement
  changed and the carer(s) stayed (the same ``carer_key``), U when both changed with a new carer,
  B when both changed with the same carer (rules 143, 434-436).
* REC: X1 on every episode but the last of a period (rules 142, 388), whose REC is the period's
  E-code, or blank while the period is open (rule 148).
* REASON_PLACE_CHANGE is on the episode whose placement ended for a move (the episode before one
  with RNE P/T/U/B): the ending placement's ``end_reason`` (rule 225); blank when the move is into
  or out of a temporary placement (rule 226), when only the legal status changed, when care ceased
  and on the open episode (rule 233). The placement service records ``end_reason`` accordingly.

:func:`episode_problems` checks a child's derived episodes against the validator rules that are
invariants of the record; every write of the care service runs it before it returns, so a change
that would make the return invalid is refused (and rolled back) naming the rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import add_months
from app.care.codes import (
    OWN_PROVISION_ANYWHERE,
    PLACEMENT_MINIMUM_AGE,
    SHORT_BREAKS,
    TEMPORARY_PLACEMENTS,
    YOUTH_JUSTICE,
    LegalStatus,
    PlacementProvider,
    PlacementType,
    ReasonEpisodeCeased,
    ReasonNewEpisode,
    ReasonPlaceChange,
)
from app.core_types import PrimaryNeed
from app.models.care import LegalStatusRecord, PeriodOfCare, Placement
from app.models.people import Person

_R = ReasonNewEpisode
_PLACEMENT_CHANGES = frozenset({_R.PLACEMENT, _R.PLACEMENT_SAME_CARER, _R.BOTH, _R.BOTH_SAME_CARER})


@dataclass(frozen=True)
class Episode:
    """One row of the SSDA903 Episodes table, with where it came from.

    ``child`` is the child's LA child id (``Person.la_child_id``; None until the council has given
    one, which the returns module must refuse). ``pl_la`` (the placement's local authority) is not
    a column of the 2025-26 Episodes table but several validator rules read it (218, 1015).
    """

    child_id: uuid.UUID
    child: str | None
    period_id: uuid.UUID
    legal_status_id: uuid.UUID
    placement_id: uuid.UUID
    decom: date
    rne: ReasonNewEpisode
    ls: LegalStatus
    cin: PrimaryNeed
    place: PlacementType
    place_provider: PlacementProvider | None
    dec: date | None
    rec: ReasonEpisodeCeased | None
    reason_place_change: ReasonPlaceChange | None
    home_post: str | None
    pl_post: str | None
    urn: str | None
    pl_la: str | None


@dataclass(frozen=True)
class Problem:
    """An SSDA903 validator rule the episodes would break."""

    rule: str
    message: str


def _active_at(starts: Sequence[date], day: date) -> int:
    """Index of the record that holds on ``day``: the latest to have started by then."""
    index = -1
    for i, start in enumerate(starts):
        if start <= day:
            index = i
    if index < 0:
        raise ValueError(f"no record holds on {day.isoformat()}: the history has a gap")
    return index


def _same_carer(before: Placement, after: Placement) -> bool:
    return before.carer_key is not None and before.carer_key == after.carer_key


def derive_episodes(
    *,
    period: PeriodOfCare,
    child: Person,
    legal_statuses: Sequence[LegalStatusRecord],
    placements: Sequence[Placement],
) -> list[Episode]:
    """The period's episodes, oldest first (a pure function of the two histories; see the module
    docstring for the rules)."""
    statuses = sorted(legal_statuses, key=lambda r: (r.start_date, r.created_at))
    moves = sorted(placements, key=lambda r: (r.start_date, r.created_at))
    ls_starts = [r.start_date for r in statuses]
    pl_starts = [r.start_date for r in moves]
    starts = sorted(set(ls_starts) | set(pl_starts))
    starts = [d for d in starts if period.end_date is None or d < period.end_date] or starts[:1]
    episodes: list[Episode] = []
    previous: tuple[int, int] | None = None
    for i, decom in enumerate(starts):
        ls_index, pl_index = _active_at(ls_starts, decom), _active_at(pl_starts, decom)
        status, placement = statuses[ls_index], moves[pl_index]
        if previous is None:
            rne = _R.STARTED
        else:
            ls_changed = ls_index != previous[0]
            pl_changed = pl_index != previous[1]
            same = pl_changed and _same_carer(moves[previous[1]], placement)
            if ls_changed and pl_changed:
                rne = _R.BOTH_SAME_CARER if same else _R.BOTH
            elif pl_changed:
                rne = _R.PLACEMENT_SAME_CARER if same else _R.PLACEMENT
            else:
                rne = _R.LEGAL_STATUS
        last = i == len(starts) - 1
        next_changes_placement = not last and _active_at(pl_starts, starts[i + 1]) != pl_index
        episodes.append(
            Episode(
                child_id=child.id,
                child=child.la_child_id,
                period_id=period.id,
                legal_status_id=status.id,
                placement_id=placement.id,
                decom=decom,
                rne=rne,
                ls=status.legal_status,
                cin=period.category_of_need,
                place=placement.placement_type,
                place_provider=placement.provider,
                dec=period.end_date if last else starts[i + 1],
                rec=period.reason_ceased if last else ReasonEpisodeCeased.NEW_EPISODE,
                reason_place_change=placement.end_reason if next_changes_placement else None,
                home_post=placement.home_postcode,
                pl_post=placement.placement_postcode,
                urn=placement.ofsted_urn,
                pl_la=placement.placement_la_code,
            )
        )
        previous = (ls_index, pl_index)
    return episodes


# --- loading (the one source the returns module uses) ------------------------------------------


def _histories(
    session: Session, period_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[LegalStatusRecord]], dict[uuid.UUID, list[Placement]]]:
    statuses: dict[uuid.UUID, list[LegalStatusRecord]] = {p: [] for p in period_ids}
    placements: dict[uuid.UUID, list[Placement]] = {p: [] for p in period_ids}
    if not period_ids:
        return statuses, placements
    for status in session.scalars(
        select(LegalStatusRecord).where(LegalStatusRecord.period_id.in_(period_ids))
    ):
        statuses[status.period_id].append(status)
    for placement in session.scalars(select(Placement).where(Placement.period_id.in_(period_ids))):
        placements[placement.period_id].append(placement)
    return statuses, placements


def episodes_for_period(session: Session, period: PeriodOfCare) -> list[Episode]:
    """The period's SSDA903 episodes, oldest first. Reads no access log: the caller has read the
    period through the care service (or is building a return, which logs its own export)."""
    child = session.get(Person, period.child_id)
    assert child is not None  # a foreign key
    statuses, placements = _histories(session, [period.id])
    return derive_episodes(
        period=period,
        child=child,
        legal_statuses=statuses[period.id],
        placements=placements[period.id],
    )


def episodes_for_child(session: Session, child_id: uuid.UUID) -> list[Episode]:
    """Every episode of every period of care of the child, oldest first (three queries)."""
    child = session.get(Person, child_id)
    if child is None:
        return []
    periods = list(
        session.scalars(
            select(PeriodOfCare)
            .where(PeriodOfCare.child_id == child_id)
            .order_by(PeriodOfCare.start_date)
        )
    )
    statuses, placements = _histories(session, [p.id for p in periods])
    episodes: list[Episode] = []
    for period in periods:
        episodes.extend(
            derive_episodes(
                period=period,
                child=child,
                legal_statuses=statuses[period.id],
                placements=placements[period.id],
            )
        )
    return episodes


# --- the validator rules that are invariants of the record -------------------------------------


def _age_reached(born: date, years: int, on: date) -> bool:
    return on >= add_months(born, 12 * years)


def episode_problems(
    episodes: Sequence[Episode], *, date_of_birth: date | None, la_code: str
) -> list[Problem]:
    """The validator rules (2025-26 where they changed) that the child's episodes break, in the
    order found. Rules that need data Casework does not hold (Ofsted provider lists: 219, 221,
    224, 227-229, 241, 243; the previous year's return: 502-503J) are left to the return itself."""
    problems: list[Problem] = []

    def problem(rule: str, message: str) -> None:
        problems.append(Problem(rule, message))

    for i, ep in enumerate(episodes):
        before = episodes[i - 1] if i > 0 and episodes[i - 1].period_id == ep.period_id else None
        after = (
            episodes[i + 1]
            if i + 1 < len(episodes) and episodes[i + 1].period_id == ep.period_id
            else None
        )
        temporary = ep.place in TEMPORARY_PLACEMENTS
        if ep.dec is not None and ep.dec <= ep.decom:
            problem("355", "An episode would last less than a day (DEC on or before DECOM).")
        if ep.ls is LegalStatus.SHORT_BREAK_SINGLE and ep.rne is not _R.STARTED:
            problem("366", "A single short break (V3) is a period of its own: no change within it.")
        if ep.place is PlacementType.P1 and ep.ls is LegalStatus.SECTION_20:
            problem(
                "378", "A child placed with parents (P1) cannot be accommodated under s20 (V2)."
            )
        if ep.ls in SHORT_BREAKS and temporary:
            problem("382", "A child on short breaks (V3/V4) cannot be in a temporary placement.")
        if ep.ls in SHORT_BREAKS and ep.place in (PlacementType.U1, PlacementType.U4):
            problem("384", "A child on short breaks (V3/V4) cannot be in long-term fostering.")
        if temporary and ep.rne not in (_R.PLACEMENT, _R.BOTH_SAME_CARER):
            problem("380", "A temporary placement starts only by a move of placement (RNE P or B).")
        if temporary and after is None and ep.rec is not None:
            problem("381", "A period of care cannot end in a temporary placement.")
        if before is not None and before.place in TEMPORARY_PLACEMENTS:
            usual = episodes[i - 2] if i >= 2 else None
            if (
                ep.rne is not _R.PLACEMENT
                or usual is None
                or (ep.place, ep.pl_post) != (usual.place, usual.pl_post)
            ):
                problem(
                    "383",
                    "After a temporary placement the child returns to the usual placement (same "
                    "placement type and postcode, RNE P).",
                )
        if before is not None:
            same_place = (ep.place, ep.pl_post, ep.urn, ep.place_provider) == (
                before.place,
                before.pl_post,
                before.urn,
                before.place_provider,
            )
            if ep.rne is _R.LEGAL_STATUS and ep.ls == before.ls:
                problem("434", f"The legal status is already {ep.ls.value}: nothing changed.")
            if ep.rne in _PLACEMENT_CHANGES and same_place:
                problem(
                    "435",
                    "The new placement has the same type, postcode, URN and provider as the "
                    "last: correct the placement instead of recording a move.",
                )
        if after is not None and after.rne in _PLACEMENT_CHANGES:
            either_temporary = temporary or after.place in TEMPORARY_PLACEMENTS
            if ep.reason_place_change is None and not either_temporary:
                problem("225", "The reason for the change of placement is required.")
            if ep.reason_place_change is not None and either_temporary:
                problem("226", "No reason for a placement change into or out of a temporary move.")
        if (
            ep.place_provider is PlacementProvider.PR1
            and ep.place not in OWN_PROVISION_ANYWHERE
            and ep.ls not in SHORT_BREAKS
            and ep.pl_la != la_code
        ):
            problem("1015", "Own provision (PR1) of this type is in the council's own area.")
        if date_of_birth is not None:
            if ep.ls in YOUTH_JUSTICE and not ep.decom > add_months(date_of_birth, 120):
                problem("358", f"A child under 10 cannot have legal status {ep.ls.value}.")
            minimum = PLACEMENT_MINIMUM_AGE.get(ep.place)
            if minimum is not None and not _age_reached(date_of_birth, minimum[0], ep.decom):
                problem(
                    minimum[1], f"A {ep.place.value} placement is for a child of {minimum[0]}+."
                )
    return problems
