"""What every return shares: the collection year, date formats, failures and import reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class CollectionYear:
    """A DfE collection year, named by the year it ends: ``2026`` is 1 April 2025 to 31 March 2026.

    Both the CIN census (``Year``, ``ReferenceDate`` 31 March) and the SSDA903 return cover the year
    to 31 March (shared/domain/returns.md)."""

    year: int

    @property
    def start(self) -> date:
        return date(self.year - 1, 4, 1)

    @property
    def end(self) -> date:
        """The census ``ReferenceDate``: 31 March of ``year``."""
        return date(self.year, 3, 31)

    @property
    def label(self) -> str:
        """How the DfE writes it: ``2025-26``; the validators' rulesets use ``2025_26``."""
        return f"{self.year - 1}-{self.year % 100:02d}"

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether a period from ``start`` to ``end`` (open when None) touches this year."""
        return (start is None or start <= self.end) and (end is None or end >= self.start)

    @classmethod
    def containing(cls, day: date) -> CollectionYear:
        """The collection year a day falls in (1 April starts a new one)."""
        return cls(day.year + 1 if day >= date(day.year, 4, 1) else day.year)


def dmy(day: date | None) -> str:
    """SSDA903 dates: dd/mm/YYYY; empty when absent."""
    return day.strftime("%d/%m/%Y") if day is not None else ""


def iso(day: date | None) -> str:
    """CIN census dates: YYYY-MM-DD (xs:date); empty when absent."""
    return day.isoformat() if day is not None else ""


@dataclass(frozen=True)
class ValidationFailure:
    """One DfE rule a return breaks: the data-quality worklist row.

    ``severity`` is ``error`` or ``query`` (the DfE's two levels); ``child`` is the LA child id
    (None for a return-level failure); ``person_id`` links to the record when Casework knows the
    child."""

    return_name: str  # "cin_census" | "ssda903"
    rule: str
    message: str
    severity: str = "error"
    child: str | None = None
    table: str | None = None
    fields: tuple[str, ...] = ()
    person_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    """One record an import refused, and why (nothing of the file is imported when any is)."""

    record: str  # e.g. "Child 123456 / CINdetails 2" or "Episodes.csv line 14"
    reason: str


@dataclass
class ImportReport:
    """What an import did: counts by record kind, and every rejection with its reason.

    An import is all or nothing: when ``rejections`` is not empty, nothing was written."""

    source: str
    created: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejections

    def count(self, kind: str, *, created: bool = True) -> None:
        bucket = self.created if created else self.unchanged
        bucket[kind] = bucket.get(kind, 0) + 1

    def reject(self, record: str, reason: str) -> None:
        self.rejections.append(Rejection(record, reason))

    def describe(self) -> str:
        if self.rejections:
            lines = [f"{self.source}: nothing imported, {len(self.rejections)} records rejected:"]
            lines += [f"  {r.record}: {r.reason}" for r in self.rejections]
            return "\n".join(lines)
        made = ", ".join(f"{n} {k}" for k, n in sorted(self.created.items())) or "nothing new"
        same = sum(self.unchanged.values())
        return f"{self.source}: imported {made}" + (
            f"; {same} records already present, unchanged" if same else ""
        )
