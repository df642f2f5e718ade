"""The council's default case file audit tool, shipped with the demo (the demo calls
``audit_tool_create`` with it).

Its themes follow the lines of the Ofsted ILACS framework and local QA frameworks: the child's
lived experience and voice first, then assessment, planning, management oversight and risk. Each
question is graded Outstanding / Good / Requires improvement / Inadequate with a comment.
"""

from __future__ import annotations

from app.audits.schemas import QuestionIn

NAME = "Case file audit (practice standards)"
DESCRIPTION = (
    "The monthly case file audit: five themes of practice, each question graded Outstanding, "
    "Good, Requires improvement or Inadequate with the evidence found on the file."
)

VOICE = "Child's lived experience and voice"
ASSESSMENT = "Assessment and analysis"
PLANNING = "Planning and review"
OVERSIGHT = "Management oversight and supervision"
RISK = "Management of risk"

QUESTIONS: tuple[QuestionIn, ...] = (
    QuestionIn(
        theme=VOICE,
        code="V1",
        text="Is the child seen regularly, and seen alone where appropriate, in line with the "
        "plan, with what was observed recorded?",
    ),
    QuestionIn(
        theme=VOICE,
        code="V2",
        text="Are the child's wishes, feelings and daily lived experience recorded in their own "
        "words and used to shape decisions?",
    ),
    QuestionIn(
        theme=VOICE,
        code="V3",
        text="Are identity, culture, language and any disability understood and reflected in "
        "the work with the child?",
    ),
    QuestionIn(
        theme=ASSESSMENT,
        code="A1",
        text="Is there a current assessment that analyses the impact of the child's experiences, "
        "rather than describing them?",
    ),
    QuestionIn(
        theme=ASSESSMENT,
        code="A2",
        text="Does the assessment draw on the history (chronology) and on information from every "
        "agency involved, including fathers and significant adults?",
    ),
    QuestionIn(
        theme=PLANNING,
        code="P1",
        text="Is the plan SMART, focused on the child's needs, and understood by the child and "
        "family?",
    ),
    QuestionIn(
        theme=PLANNING,
        code="P2",
        text="Are reviews, core groups and visits held within timescales, and is progress "
        "against the plan measured?",
    ),
    QuestionIn(
        theme=PLANNING,
        code="P3",
        text="Is drift or delay identified and acted on, including planning for permanence?",
    ),
    QuestionIn(
        theme=OVERSIGHT,
        code="M1",
        text="Is management oversight recorded at key decision points, giving clear direction "
        "with reasons?",
    ),
    QuestionIn(
        theme=OVERSIGHT,
        code="M2",
        text="Does reflective supervision test the analysis and lead to actions that are "
        "followed up?",
    ),
    QuestionIn(
        theme=RISK,
        code="R1",
        text="Are risks and protective factors identified, analysed and responded to in a "
        "timely way, with safety planning where needed?",
    ),
    QuestionIn(
        theme=RISK,
        code="R2",
        text="Are thresholds applied appropriately, with escalation (strategy discussion, "
        "section 47, legal planning) when risk increases?",
    ),
)
