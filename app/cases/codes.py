"""SSDA903 code sets of the case's allocation: the reason a child's social worker changed.

``SW_REASON`` of the SWEpisodes table (validator rules SW13/SW15: every episode starting from
April 2023 carries one of these). The reason belongs to the episode that *starts*: the first
worker of an involvement is ``FCONTA`` (SW10b: a first-contact episode starts after any previous
one ended), any other new worker's episode starts within 7 days of the last one's end (SW10a) and
says why the worker changed. Labels paraphrase the DfE SSDA903 guide.
"""

from __future__ import annotations

from app.core_types import CodeSet, _labels


class SWReason(CodeSet):
    """SSDA903 ``SW_REASON`` (validator rule SW13)."""

    MANAGE = "MANAGE"
    FCONTA = "FCONTA"
    LEFTRL = "LEFTRL"
    ORGRST = "ORGRST"
    TSPROC = "TSPROC"
    ABSENC = "ABSENC"
    CHCHAN = "CHCHAN"
    PCCHAN = "PCCHAN"
    SWDIED = "SWDIED"
    OTHERS = "OTHERS"


_labels(
    SWReason,
    {
        "MANAGE": "Management decision (e.g. caseload balancing)",
        "FCONTA": "First contact: the first social worker of this involvement",
        "LEFTRL": "The social worker left the role",
        "ORGRST": "Organisational restructure",
        "TSPROC": "Transfer between teams or services as part of the usual process",
        "ABSENC": "The social worker is absent (e.g. long-term sickness, parental leave)",
        "CHCHAN": "The child asked for a change",
        "PCCHAN": "The parent or carer asked for a change",
        "SWDIED": "The social worker died",
        "OTHERS": "Other",
    },
)

#: The reason derived for the first worker of a case; never chosen for a change of worker.
FIRST_CONTACT = SWReason.FCONTA
