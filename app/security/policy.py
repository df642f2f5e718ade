"""Who may do what: the one table every route declares against.

Each route depends on ``permission("<name>")``; the names are also the scopes an integration token
can
carry. Object-level checks (which child, which case) live in ``app.security.access``.
"""

from __future__ import annotations

from app.models.org import Role

R = Role
PRACTITIONERS = frozenset(
    {R.social_worker, R.team_manager, R.mash_officer, R.iro, R.service_manager, R.qa_auditor}
)
CASE_WRITERS = frozenset({R.social_worker, R.team_manager, R.mash_officer, R.service_manager})
MANAGERS = frozenset({R.team_manager, R.service_manager})
INTEGRATION = frozenset({R.integration_client})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # Reading a child's record: every practitioner (Working Together: information is shared to
    # safeguard); every read is access-logged; restricted records only for named users.
    "person:read": PRACTITIONERS | INTEGRATION,
    "person:write": CASE_WRITERS | INTEGRATION,
    "person:restrict": MANAGERS,
    "person:break_glass": MANAGERS,
    # "Who has looked at this child": managers (snooping checks) and administrators (subject
    # access).
    "access_log:read": MANAGERS | frozenset({R.administrator}),
    # Break-glass reads and denied attempts across the council: information governance (service
    # managers, administrators), not every team manager.
    "security_alert:read": frozenset({R.service_manager, R.administrator}),
    "case:read": PRACTITIONERS | INTEGRATION,
    "case:write": CASE_WRITERS | INTEGRATION,
    "case:allocate": MANAGERS,
    "assessment:authorise": MANAGERS,
    "deadline:read": PRACTITIONERS | INTEGRATION,
    "team:read": PRACTITIONERS | frozenset({R.administrator}),
    "team:write": frozenset({R.administrator, R.service_manager}),
    "user:read": MANAGERS | {R.administrator},
    "user:write": frozenset({R.administrator}),
    "token:write": frozenset({R.administrator}),
    # Webhook subscriptions for integrations (URLs, shared secrets, delivery retries): the system
    # administrator who also issues the integrations' tokens; events name no one, but where they
    # go is a data-sharing decision, not a practitioner's.
    "webhook:manage": frozenset({R.administrator}),
    "audit:verify": frozenset({R.administrator, R.service_manager}),
    # The IRO service (s.25A Children Act 1989): IROs chair and record looked-after children's
    # reviews, keep monitoring contacts and raise disputes; managers allocate IROs and answer
    # disputes. Dashboards and timeliness figures are for every practitioner.
    "iro:read": PRACTITIONERS,
    "iro:write": frozenset({R.iro}) | MANAGERS,
    "iro:allocate": MANAGERS,
    "cla_review:write": frozenset({R.iro}) | MANAGERS,
    # A review's decisions are mostly owned by the social worker; the IRO tracks them to the end.
    "cla_review_action:complete": CASE_WRITERS | frozenset({R.iro}),
    # Statutory returns and Ofsted's Annex A hold every child's record: the council's data team
    # produces them, service managers may (inspection day); each generation is access-logged.
    "returns:generate": frozenset({R.data_officer, R.service_manager}),
    # Early help (Working Together 2023 ch. 2): read by practitioners; the early help teams (social
    # workers and family support workers hold the social_worker role) and managers write it.
    "early_help:read": PRACTITIONERS,
    "early_help:write": CASE_WRITERS,
    # Supervision: sessions are recorded by supervisors (managers); each one is further limited to
    # the worker, the supervisor and their managers (others get 404). Management oversight on a
    # case file is a manager's entry.
    "supervision:read": PRACTITIONERS,
    "supervision:write": MANAGERS,
    "oversight:write": MANAGERS,
    # Case file audits: QA auditors and managers audit (never their own team's cases: checked per
    # case); tools and programmes are set up by QA and service managers; anyone who can read the
    # case sees its audits (learning goes back to the worker); action owners complete actions.
    "audit_tool:write": frozenset({R.qa_auditor, R.service_manager}),
    "audit_programme:write": frozenset({R.qa_auditor, R.service_manager}),
    "case_audit:read": PRACTITIONERS,
    "case_audit:write": frozenset({R.qa_auditor}) | MANAGERS,
    "audit_action:complete": CASE_WRITERS | frozenset({R.qa_auditor}),
    # Aggregated findings and practice measures name no child: for managers, QA and the data team.
    "audit_findings:read": MANAGERS | frozenset({R.qa_auditor, R.data_officer}),
    "practice:read": PRACTITIONERS | frozenset({R.data_officer}),
    # Retention (rules 39, 40): legal holds, the list of records due for disposal (ids, no names)
    # and the disposal job. The system administrator, and the council's records manager, who holds
    # the data_officer role (the data team owns the records management policy). Never a
    # practitioner: destroying a child's record is not a casework decision.
    "retention:manage": frozenset({R.administrator, R.data_officer}),
}


def role_may(role: Role, permission: str) -> bool:
    return role in PERMISSIONS[permission]
