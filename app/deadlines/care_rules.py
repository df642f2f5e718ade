"""The rules behind the deadlines of children in care, care leavers, the IRO service and courts.

Numbers and sources are those of ``shared/domain/timescales.md`` (rules 13-35: the Care Planning,
Placement and Case Review (England) Regulations 2010, SI 2010/959, the IRO Handbook, the Care
Leavers (England) Regulations 2010, the Children Act 1989 s.32). The modules that open these
deadlines compute their due dates; this file only names each rule, once, so that worklists,
dashboards and reports can say which law a deadline comes from. Rules marked U or L in
timescales.md take their numbers from Settings (``CASEWORK_...``).
"""

from __future__ import annotations

from app.deadlines.rules import Rule
from app.models.deadlines import DeadlineKind as K

CARE_PLAN = Rule(
    "TS13",
    K.care_plan,
    "Care Planning, Placement and Case Review (England) Regulations 2010, reg 4(2): "
    "timescales rule 13",
    "Care plan prepared before the first placement, or within 10 working days of its start",
)
PLACEMENT_PLAN = Rule(
    "TS14",
    K.placement_plan,
    "Care Planning Regulations 2010, reg 9 (number unchecked, "
    "CASEWORK_PLACEMENT_PLAN_WORKING_DAYS): timescales rule 14",
    "Placement plan before each placement, or within 5 working days of its start (council setting)",
)
PERMANENCE_PLAN = Rule(
    "TS16P",
    K.permanence_plan,
    "Children Act 1989 guidance vol 2 (care planning): permanence plan by the second review, "
    "timescales rule 16 (unchecked)",
    "Permanence plan, with its option, in place by the second review (20 working days and 3 "
    "months after care began)",
)
CLA_REVIEW_FIRST = Rule(
    "TS15",
    K.cla_review_first,
    "Care Planning Regulations 2010, reg 33(1): timescales rule 15",
    "First review of a looked-after child within 20 working days of becoming looked after",
)
CLA_REVIEW_SECOND = Rule(
    "TS16",
    K.cla_review_second,
    "Care Planning Regulations 2010, reg 33(2): timescales rule 16",
    "Second review within 3 months of the first",
)
CLA_REVIEW = Rule(
    "TS17",
    K.cla_review,
    "Care Planning Regulations 2010, reg 33(2): timescales rule 17",
    "Each later review within 6 months of the previous one",
)
VISIT_FIRST_WEEK = Rule(
    "TS18",
    K.statutory_visit,
    "Care Planning Regulations 2010, reg 28(2): timescales rule 18",
    "Visit within 1 week of the start of each placement",
)
VISIT_SIX_WEEKLY = Rule(
    "TS19",
    K.statutory_visit,
    "Care Planning Regulations 2010, reg 28(2): timescales rule 19",
    "Visits at intervals of not more than 6 weeks in the first year of a placement",
)
VISIT_AFTER_FIRST_YEAR = Rule(
    "TS20",
    K.statutory_visit,
    "Care Planning Regulations 2010, reg 28(2): timescales rule 20",
    "After the first year: 3-monthly if the placement is intended to last until 18, else 6-weekly",
)
VISIT_PLACED_WITH_PARENTS = Rule(
    "TS21",
    K.statutory_visit,
    "Care Planning Regulations 2010, reg 28(3) (placed with parents under reg 19) and reg 28(4) "
    "(temporary connected-person approval under reg 24): timescales rule 21",
    "Weekly until the first review, then 6-weekly (placed with parents, reg 19) or 4-weekly "
    "(temporary connected-person approval, reg 24)",
)
VISIT_LONG_TERM_AGREED = Rule(
    "TS22",
    K.statutory_visit,
    "Care Planning Regulations 2010, reg 28(3A) (as amended 2015): timescales rule 22",
    "Long-term foster placement over a year, the child agreeing: visits at most 6 months apart",
)
#: The registry names one rule per kind; a statutory visit's own row names the rule that set it.
STATUTORY_VISIT = Rule(
    "TS18-22",
    K.statutory_visit,
    "Care Planning Regulations 2010, reg 28: timescales rules 18-22",
    "Statutory visits to a looked-after child, at the interval the child's placement calls for",
)
HEALTH_ASSESSMENT_INITIAL = Rule(
    "TS23",
    K.health_assessment_initial,
    "Care Planning Regulations 2010, reg 7; statutory guidance on promoting the health of "
    "looked-after children: timescales rule 23",
    "Initial health assessment before the first review (20 working days)",
)
HEALTH_ASSESSMENT_REVIEW = Rule(
    "TS24",
    K.health_assessment_review,
    "Care Planning Regulations 2010, reg 7: timescales rule 24",
    "Review health assessment 6 months after the last under age 5, 12 months from age 5",
)
PEP = Rule(
    "TS25",
    K.pep,
    "Statutory guidance, designated teacher and PEP (Children Act 1989 guidance vol 2): "
    "timescales rule 25",
    "Personal education plan in place by the first review",
)
PEP_REVIEW = Rule(
    "TS25R",
    K.pep_review,
    "Statutory guidance on the PEP: timescales rule 25 (reviewed each school term)",
    "Personal education plan reviewed each term (within 4 months of the last)",
)
PATHWAY_NEEDS_ASSESSMENT = Rule(
    "TS26",
    K.pathway_needs_assessment,
    "Care Planning Regulations 2010, reg 42: timescales rule 26",
    "Needs assessment for the pathway plan within 3 months of an eligible child's 16th birthday",
)
PATHWAY_PLAN = Rule(
    "TS26P",
    K.pathway_plan,
    "Care Planning Regulations 2010, reg 43 (pathway plan after the needs assessment): "
    "timescales rule 26",
    "Pathway plan prepared as soon as possible after the needs assessment (same 3 months)",
)
PATHWAY_PLAN_REVIEW = Rule(
    "TS27",
    K.pathway_plan_review,
    "Care Leavers (England) Regulations 2010, reg 7: timescales rule 27",
    "Pathway plan reviewed at least every 6 months",
)
IRO_ALLOCATION = Rule(
    "TS28",
    K.iro_allocation,
    "Children Act 1989 s.25A; IRO Handbook 2010 (CASEWORK_IRO_ALLOCATION_WORKING_DAYS): "
    "timescales rule 28",
    "An IRO appointed within 5 working days of becoming looked after, always before the first "
    "review",
)
REVIEW_DECISIONS = Rule(
    "TS29D",
    K.review_decisions,
    "IRO Handbook 2010 (number unchecked, CASEWORK_REVIEW_DECISIONS_WORKING_DAYS): "
    "timescales rule 29",
    "The review's decisions circulated within 5 working days of the review",
)
REVIEW_RECORD = Rule(
    "TS29R",
    K.review_record,
    "IRO Handbook 2010 (number unchecked, CASEWORK_REVIEW_RECORD_WORKING_DAYS): timescales rule 29",
    "The full record of the review completed within 20 working days",
)
RECOMMENDATION = Rule(
    "TS29A",
    K.recommendation,
    "IRO Handbook 2010: each review decision has an owner and a date set at the review "
    "(timescales rule 29)",
    "A review decision or recommendation completed by the date the review set",
)
RETURN_INTERVIEW = Rule(
    "TS30",
    K.return_interview,
    "Statutory guidance on children who run away or go missing from home or care (2014) "
    "(CASEWORK_RETURN_INTERVIEW_HOURS): timescales rule 30",
    "Return home interview offered within 72 hours of the child's return",
)
IRO_DISPUTE_STAGE = Rule(
    "TS28-DRP",
    K.iro_dispute_stage,
    "IRO Handbook 2010 ch.5 and the council's dispute resolution protocol "
    "(CASEWORK_IRO_DISPUTE_STAGE_WORKING_DAYS); the IRO's role, timescales rule 28",
    "Each stage of an IRO dispute answered within the protocol's working days",
)
PRE_PROCEEDINGS_REVIEW = Rule(
    "TS35",
    K.pre_proceedings_review,
    "Public Law Outline practice guidance (local, CASEWORK_PRE_PROCEEDINGS_REVIEW_WEEKS): "
    "timescales rule 35",
    "Pre-proceedings reviewed (to proceedings or stepped down) within 12 weeks of the decision",
)
CARE_PROCEEDINGS = Rule(
    "TS34",
    K.care_proceedings_26_weeks,
    "Children Act 1989 s.32(1)(a), as amended by the Children and Families Act 2014 s.14: "
    "timescales rule 34",
    "Care or supervision proceedings completed within 26 weeks of the application, extended by "
    "up to 8 weeks at a time",
)

RULES: dict[K, Rule] = {
    r.kind: r
    for r in (
        CARE_PLAN,
        PLACEMENT_PLAN,
        PERMANENCE_PLAN,
        CLA_REVIEW_FIRST,
        CLA_REVIEW_SECOND,
        CLA_REVIEW,
        STATUTORY_VISIT,
        HEALTH_ASSESSMENT_INITIAL,
        HEALTH_ASSESSMENT_REVIEW,
        PEP,
        PEP_REVIEW,
        PATHWAY_NEEDS_ASSESSMENT,
        PATHWAY_PLAN,
        PATHWAY_PLAN_REVIEW,
        IRO_ALLOCATION,
        REVIEW_DECISIONS,
        REVIEW_RECORD,
        RECOMMENDATION,
        RETURN_INTERVIEW,
        IRO_DISPUTE_STAGE,
        PRE_PROCEEDINGS_REVIEW,
        CARE_PROCEEDINGS,
    )
}

#: The clocks of being looked after: ceasing care stops them all (timescales.md: deadlines stop
#: when their episode ends). Care leavers' and the courts' clocks run on.
LOOKED_AFTER_KINDS: frozenset[K] = frozenset(
    {
        K.care_plan,
        K.placement_plan,
        K.permanence_plan,
        K.cla_review_first,
        K.cla_review_second,
        K.cla_review,
        K.statutory_visit,
        K.health_assessment_initial,
        K.health_assessment_review,
        K.pep,
        K.pep_review,
        K.iro_allocation,
    }
)
