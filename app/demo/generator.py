"""The demo council: teams, staff, and a few hundred fictional children in families.

Deterministic: the same seed on the same day gives the same records (ids included). Dates are
relative to ``clock.today()`` when the data is loaded (birthdays, moves, case dates), so a demo
loaded today shows deadlines due today, met last month and overdue this week, whenever it is
loaded; tests freeze the clock to compare two loads.

People are written straight through the ORM in bulk (the services would audit each of thousands of
rows one by one); every identifier still passes the same validators the API applies.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.config import Environment, Settings, get_settings
from app.core_types import (
    ENGLISH_LA_NAMES,
    Disability,
    Ethnicity,
    Sex,
    nhs_check_digit,
    upn_check_letter,
    validate_postcode,
)
from app.demo import names
from app.models import (
    Address,
    ApiToken,
    Case,
    Person,
    PersonKind,
    PersonRelationship,
    RelationshipKind,
    RestrictedAccessGrant,
    Role,
    Team,
    TeamKind,
    TeamMembership,
    UserAccount,
)
from app.security.passwords import hash_password
from app.security.policy import PERMISSIONS
from app.security.tokens import hash_secret

T = TypeVar("T")

ROLE_LABELS: Final[dict[Role, str]] = {
    Role.social_worker: "Social worker",
    Role.team_manager: "Team manager",
    Role.mash_officer: "MASH officer",
    Role.iro: "Independent reviewing officer",
    Role.service_manager: "Service manager",
    Role.qa_auditor: "QA auditor",
    Role.administrator: "Administrator",
    Role.integration_client: "Integration client",
    Role.data_officer: "Data officer",
}


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in account: known username and password, valid only in development."""

    username: str
    role: Role
    password: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def _demo_password(role: Role) -> str:
    return f"casework-demo-{role.value.replace('_', '-')}"


# One per role, in the order of Role. Every other fictional worker has their role's password too,
# so any of them can sign in (to try team-scoped access: own team, other team, restricted child).
DEMO_ACCOUNTS: Final[tuple[DemoAccount, ...]] = tuple(
    DemoAccount(f"demo.{role.value.replace('_', '')}", role, _demo_password(role)) for role in Role
)
DEMO_ACCOUNT_BY_ROLE: Final[dict[Role, DemoAccount]] = {a.role: a for a in DEMO_ACCOUNTS}
# A bearer token for the demo integration client, so the JSON API can be tried with curl at once.
DEMO_INTEGRATION_TOKEN: Final = "cw_demo-integration-token-development-only"  # noqa: S105


class DemoDataRefused(Exception):
    """Demo data cannot be loaded here (production, or already loaded); the message says why."""


class ProgressCallback(Protocol):
    def __call__(self, step: str, done: int, total: int) -> None: ...


@dataclass
class DemoSummary:
    council: str = ""
    teams: int = 0
    users: int = 0
    children: int = 0
    unborn: int = 0
    restricted: int = 0
    adults: int = 0
    relationships: int = 0
    addresses: int = 0
    cases: int = 0
    young_people: int = 0
    early_help_episodes: int = 0
    interventions: int = 0
    supervision_records: int = 0
    case_audits: int = 0

    def describe(self) -> str:
        return (
            f"Demo data loaded for {self.council}: {self.teams} teams, "
            f"{self.users} staff accounts, "
            f"{self.children} children ({self.unborn} unborn, {self.restricted} restricted), "
            f"{self.young_people} young people of 17 to 20 (care leavers), "
            f"{self.adults} adults, {self.relationships} relationships, "
            f"{self.addresses} addresses, {self.cases} cases, "
            f"{self.early_help_episodes} early help episodes, "
            f"{self.interventions} services and interventions, "
            f"{self.supervision_records} supervision records, {self.case_audits} case file audits."
        )


@dataclass
class DemoWorld:
    """What the loaders after the people (cases) need to know about what was made."""

    today: date
    teams: dict[str, Team] = field(default_factory=dict)
    # Staff by team name, in creation order; managers first.
    staff: dict[str, list[UserAccount]] = field(default_factory=dict)
    accounts: dict[Role, UserAccount] = field(default_factory=dict)
    children: list[Person] = field(default_factory=list)
    # Young people of 17 to 20 who were in care as teenagers: the care leavers' stories.
    young_people: list[Person] = field(default_factory=list)


# (team name, kind, area, staff: (role, how many, manages the team)).
TEAM_PLAN: Final[tuple[tuple[str, TeamKind, str, tuple[tuple[Role, int, bool], ...]], ...]] = (
    (
        "Front Door (MASH)",
        TeamKind.front_door,
        "Citywide",
        (
            (Role.team_manager, 1, True),
            (Role.mash_officer, 4, False),
            (Role.social_worker, 2, False),
        ),
    ),
    (
        "Assessment North",
        TeamKind.assessment,
        "North",
        ((Role.team_manager, 1, True), (Role.social_worker, 5, False)),
    ),
    (
        "Assessment South",
        TeamKind.assessment,
        "South",
        ((Role.team_manager, 1, True), (Role.social_worker, 5, False)),
    ),
    (
        "Child in Need and Protection North",
        TeamKind.cin_cp,
        "North",
        ((Role.team_manager, 1, True), (Role.social_worker, 6, False)),
    ),
    (
        "Child in Need and Protection South",
        TeamKind.cin_cp,
        "South",
        ((Role.team_manager, 1, True), (Role.social_worker, 6, False)),
    ),
    (
        "Children in Care",
        TeamKind.children_in_care,
        "Citywide",
        ((Role.team_manager, 1, True), (Role.social_worker, 5, False)),
    ),
    (
        "Care Leavers",
        TeamKind.care_leavers,
        "Citywide",
        ((Role.team_manager, 1, True), (Role.social_worker, 3, False)),
    ),
    (
        "Independent Reviewing Service",
        TeamKind.iro,
        "Citywide",
        ((Role.team_manager, 1, True), (Role.iro, 4, False)),
    ),
    ("Quality Assurance", TeamKind.quality_assurance, "Citywide", ((Role.qa_auditor, 2, False),)),
    (
        "Early Help East",
        TeamKind.early_help,
        "East",
        ((Role.team_manager, 1, True), (Role.social_worker, 3, False)),
    ),
)
# The demo social worker and team manager share a team, so the manager sees the worker's cases.
DEMO_HOME_TEAM: Final = "Assessment North"
# Registered social workers carry a Social Work England number (SSDA903 SW_ID).
SWE_REGISTERED_ROLES: Final = frozenset(
    {Role.social_worker, Role.team_manager, Role.iro, Role.service_manager}
)

ETHNICITY_WEIGHTS: Final[tuple[tuple[Ethnicity, int], ...]] = (
    (Ethnicity.WBRI, 44), (Ethnicity.APKN, 12), (Ethnicity.BAFR, 6), (Ethnicity.MWBC, 6),
    (Ethnicity.WOTH, 6), (Ethnicity.AIND, 4), (Ethnicity.BCRB, 4), (Ethnicity.ABAN, 3),
    (Ethnicity.MOTH, 3), (Ethnicity.AOTH, 2), (Ethnicity.MWAS, 2), (Ethnicity.MWBA, 2),
    (Ethnicity.OOTH, 2), (Ethnicity.BOTH, 1), (Ethnicity.CHNE, 1), (Ethnicity.WIRI, 1),
    (Ethnicity.WROM, 1), (Ethnicity.NOBT, 1),
)  # fmt: skip
DISABILITY_CODES: Final = tuple(d for d in Disability if d not in (Disability.NONE, Disability.DDA))
SIBLING_GROUP_WEIGHTS: Final = ((1, 35), (2, 30), (3, 20), (4, 10), (5, 5))
FLUSH_EVERY: Final = 500
YEAR: Final = 365


def seeded(seed: int, stream: str) -> random.Random:
    """A reproducible random stream for one concern of the demo (deterministic, not secret)."""
    return random.Random(f"{seed}:{stream}")  # noqa: S311 - demo data must be reproducible


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass(frozen=True)
class _Traits:
    """What a family shares (a simplification: real families are more varied)."""

    ethnicity: Ethnicity
    language: str
    religion: str | None


class _Builder:
    def __init__(
        self,
        session: Session,
        *,
        seed: int,
        settings: Settings,
        progress: ProgressCallback | None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.progress = progress
        # One stream per concern: adding a field to people must not reshuffle the staff.
        self.ids = seeded(seed, "ids")
        self.seed = seed
        self.org_rng = seeded(seed, "org")
        self.rng = seeded(seed, "people")
        self.today = clock.today()
        self.world = DemoWorld(today=self.today)
        self.summary = DemoSummary()
        self.pending: list[object] = []
        self.nhs_numbers: set[str] = set()
        self.upns: set[str] = set()
        self.swe_numbers: set[str] = set()
        self.usernames: set[str] = set()
        self.la_child_serial = 0
        self.town = ENGLISH_LA_NAMES.get(settings.la_code, settings.la_name)
        # .example is reserved (RFC 2606): no mail can ever reach a real mailbox.
        slug = "-".join(re.findall(r"[a-z0-9]+", settings.la_name.lower())) or "council"
        self.email_domain = f"{slug}.example"
        self.summary.council = f"{settings.la_name} (LA {settings.la_code})"
        self.postcode_area = names.POSTCODE_AREAS.get(settings.la_code, names.DEFAULT_POSTCODE_AREA)

    # ----------------------------------------------------------------------------------------------
    # plumbing

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def add(self, row: object) -> None:
        self.pending.append(row)

    def flush(self) -> None:
        if self.pending:
            self.session.add_all(self.pending)
            self.session.flush()
            self.pending.clear()

    def report(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)

    # ----------------------------------------------------------------------------------------------
    # organisation

    def _swe_number(self) -> str:
        while True:
            number = f"SW{self.org_rng.randint(10_000, 999_999)}"
            if number not in self.swe_numbers:
                self.swe_numbers.add(number)
                return number

    def _staff_name(self) -> tuple[str, str]:
        first = self.org_rng.choice(names.WOMENS_NAMES + names.MENS_NAMES)
        return first, self.org_rng.choice(names.STAFF_SURNAMES)

    def _username(self, first: str, last: str) -> str:
        base = f"{first}.{last}".lower()
        username, n = base, 1
        while username in self.usernames:
            n += 1
            username = f"{base}{n}"
        self.usernames.add(username)
        return username

    def _user(self, role: Role, *, demo: bool, hashes: dict[Role, str]) -> UserAccount:
        first, last = self._staff_name()
        if role is Role.integration_client:
            first, last = "Schools portal", "(integration)"
        username = DEMO_ACCOUNT_BY_ROLE[role].username if demo else self._username(first, last)
        self.usernames.add(username)
        user = UserAccount(
            id=self.new_id(),
            username=username,
            display_name=f"{first} {last}",
            email=f"{username}@{self.email_domain}",
            role=role,
            password_hash=hashes[role],
            must_change_password=False,
            swe_registration_number=self._swe_number() if role in SWE_REGISTERED_ROLES else None,
        )
        self.add(user)
        self.summary.users += 1
        if demo:
            self.world.accounts[role] = user
        return user

    def organisation(self) -> None:
        total = sum(n for *_, staff in TEAM_PLAN for _r, n, _m in staff) + 3
        # argon2 is deliberately slow: hash each role's demo password once and share the hash.
        hashes = {role: hash_password(_demo_password(role)) for role in Role}
        joined = self.today - timedelta(days=8 * YEAR)
        done = 0
        demo_taken: set[Role] = set()
        for name, kind, area, staff in TEAM_PLAN:
            team = Team(id=self.new_id(), name=name, kind=kind, area=area)
            self.add(team)
            self.world.teams[name] = team
            self.world.staff[name] = []
            self.summary.teams += 1
            for role, count, manages in staff:
                for _ in range(count):
                    # The first of each role becomes its demo account, except that the demo
                    # social worker and team manager both belong to the demo home team.
                    demo = role not in demo_taken and (
                        name == DEMO_HOME_TEAM
                        or role not in (Role.social_worker, Role.team_manager)
                    )
                    if demo:
                        demo_taken.add(role)
                    user = self._user(role, demo=demo, hashes=hashes)
                    self.world.staff[name].append(user)
                    self.add(
                        TeamMembership(
                            id=self.new_id(),
                            team_id=team.id,
                            user_id=user.id,
                            is_manager=manages,
                            start_date=joined - timedelta(days=self.org_rng.randint(0, 4 * YEAR)),
                        )
                    )
                    done += 1
                    self.report("Teams and staff", done, total)
        # A head of service manages every social work team; the administrator and the integration
        # client belong to none.
        service_manager = self._user(Role.service_manager, demo=True, hashes=hashes)
        for name, kind, *_ in TEAM_PLAN:
            if kind not in (TeamKind.iro, TeamKind.quality_assurance):
                self.add(
                    TeamMembership(
                        id=self.new_id(),
                        team_id=self.world.teams[name].id,
                        user_id=service_manager.id,
                        is_manager=True,
                        start_date=joined,
                    )
                )
        self._user(Role.administrator, demo=True, hashes=hashes)
        integration = self._user(Role.integration_client, demo=True, hashes=hashes)
        self.flush()
        scopes = sorted(p for p, roles in PERMISSIONS.items() if Role.integration_client in roles)
        self.session.add(
            ApiToken(
                id=self.new_id(),
                name="Demo integration token",
                token_hash=hash_secret(DEMO_INTEGRATION_TOKEN),
                token_prefix=DEMO_INTEGRATION_TOKEN[:12],
                user_id=integration.id,
                scopes=scopes,
            )
        )
        self._data_officer(hashes)
        self.report("Teams and staff", total, total)

    def _data_officer(self, hashes: dict[Role, str]) -> None:
        """The performance and data team's officer (returns, data quality, Annex A). Drawn from
        streams of its own so that adding the role reshuffled none of the existing demo."""
        rng = seeded(self.seed, "data-officer")
        account = DEMO_ACCOUNT_BY_ROLE[Role.data_officer]
        user = UserAccount(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            username=account.username,
            display_name=f"{rng.choice(names.WOMENS_NAMES)} {rng.choice(names.STAFF_SURNAMES)}",
            email=f"{account.username}@{self.email_domain}",
            role=Role.data_officer,
            password_hash=hashes[Role.data_officer],
            must_change_password=False,
        )
        self.add(user)
        self.summary.users += 1
        self.world.accounts[Role.data_officer] = user

    # ----------------------------------------------------------------------------------------------
    # identifiers

    def _nhs_number(self) -> str:
        # NHS England reserves 999 000 0000 to 999 999 9999 for testing: never a real patient.
        while True:
            nine = f"999{self.rng.randint(0, 999_999):06d}"
            check = nhs_check_digit(nine)
            number = f"{nine}{check}"
            if check is not None and number not in self.nhs_numbers:
                self.nhs_numbers.add(number)
                return number

    def _upn(self, dob: date, la_code: str) -> str:
        # LA number, DfE establishment number, year allocated (the year the child starts school),
        # serial: the structure of a permanent UPN; the check letter goes in front.
        while True:
            establishment = self.rng.randint(2000, 2999)
            year = (dob.year + 4) % 100
            digits = f"{la_code}{establishment:04d}{year:02d}{self.rng.randint(1, 999):03d}"
            upn = upn_check_letter(digits) + digits
            if upn not in self.upns:
                self.upns.add(upn)
                return upn

    def _la_child_id(self) -> str:
        self.la_child_serial += 1
        return f"DEMO{self.la_child_serial:06d}"

    def _postcode(self) -> str:
        area, districts = self.postcode_area
        inward = f"{self.rng.randint(1, 9)}{''.join(self.rng.choices(names.INWARD_LETTERS, k=2))}"
        return validate_postcode(f"{area}{self.rng.choice(districts)} {inward}")

    # ----------------------------------------------------------------------------------------------
    # people

    def _person(
        self,
        kind: PersonKind,
        traits: _Traits,
        *,
        first: str,
        last: str,
        sex: Sex,
        dob: date | None,
        expected: date | None = None,
    ) -> Person:
        middle = None
        if kind is PersonKind.child and dob is not None and self.rng.random() < 0.3:
            middle = self.rng.choice(names.GIRLS_NAMES if sex is Sex.FEMALE else names.BOYS_NAMES)
        person = Person(
            id=self.new_id(),
            kind=kind,
            first_name=first,
            middle_names=middle if middle != first else None,
            last_name=last,
            search_first_name=first.lower(),
            search_last_name=last.lower(),
            date_of_birth=dob,
            expected_date_of_birth=expected,
            sex=sex,
            ethnicity=traits.ethnicity,
            first_language=traits.language,
            religion=traits.religion,
            disabilities=[],
        )
        self.add(person)
        if kind is PersonKind.adult:
            self.summary.adults += 1
            if self.rng.random() < 0.8:
                person.nhs_number = self._nhs_number()
        return person

    def _adult(self, traits: _Traits, *, sex: Sex, last: str, dob: date) -> Person:
        pool = names.WOMENS_NAMES if sex is Sex.FEMALE else names.MENS_NAMES
        first = self.rng.choice(pool)
        return self._person(PersonKind.adult, traits, first=first, last=last, sex=sex, dob=dob)

    def _child(self, traits: _Traits, *, last: str, dob: date | None) -> Person:
        if dob is None:
            # Unborn: Sex U (CIN rule 8750), "Baby <surname>" until named, due within 40 weeks.
            expected = self.today + timedelta(days=self.rng.randint(14, 250))
            child = self._person(
                PersonKind.child,
                traits,
                first="Baby",
                last=last,
                sex=Sex.UNKNOWN,
                dob=None,
                expected=expected,
            )
        else:
            sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
            first = self.rng.choice(names.GIRLS_NAMES if sex is Sex.FEMALE else names.BOYS_NAMES)
            child = self._person(PersonKind.child, traits, first=first, last=last, sex=sex, dob=dob)
        child.la_child_id = self._la_child_id()
        self.summary.children += 1
        self.world.children.append(child)
        if dob is None:
            self.summary.unborn += 1
            return child
        child.nhs_number = self._nhs_number()
        if self.rng.random() < 0.12:
            codes = self.rng.sample(DISABILITY_CODES, k=self.rng.choice((1, 1, 2)))
            child.disabilities = sorted(code.value for code in codes)
        else:
            child.disabilities = [Disability.NONE.value]
        age = (self.today - dob).days // YEAR
        if age >= 4:
            # Every child of school age has a UPN (SSDA903 rule 442, CIN 8770Q): a missing one is
            # a data-quality fault the returns flag, not something the demo should model.
            child.upn = self._upn(dob, self.settings.la_code)
            if self.rng.random() < 0.03:
                # Moved in from another council: the UPN it issued stays as the former UPN.
                child.former_upn = self._upn(dob, self.rng.choice(("331", "336", "352", "383")))
        return child

    def _new_address(self) -> tuple[str, str, str]:
        line_1 = f"{self.rng.randint(1, 180)} {self.rng.choice(names.STREET_NAMES)}"
        return line_1, self.rng.choice(names.NEIGHBOURHOODS), self._postcode()

    def _lives_at(
        self,
        people: Iterable[Person],
        where: tuple[str, str, str],
        start: date,
        end: date | None = None,
    ) -> None:
        for person in people:
            if person.date_of_birth is None:
                continue  # an unborn child has no address yet
            begins = max(start, person.date_of_birth)
            if end is not None and end < begins:
                continue
            self.add(
                Address(
                    id=self.new_id(),
                    person_id=person.id,
                    line_1=where[0],
                    line_2=where[1],
                    town=self.town,
                    postcode=where[2],
                    start_date=begins,
                    end_date=end,
                )
            )
            self.summary.addresses += 1

    def _relate(
        self,
        child: Person,
        related: Person,
        kind: RelationshipKind,
        *,
        pr: bool = False,
        description: str | None = None,
        start: date | None = None,
    ) -> None:
        self.add(
            PersonRelationship(
                id=self.new_id(),
                person_id=child.id,
                related_person_id=related.id,
                kind=kind,
                has_parental_responsibility=pr,
                description=description,
                start_date=start,
            )
        )
        self.summary.relationships += 1

    def _birthday(self, age_years: int, *, before: date) -> date:
        return before - timedelta(days=age_years * YEAR + self.rng.randint(0, YEAR - 1))

    def family(self, size: int, *, unborn: bool, eldest_age: int | None = None) -> None:
        rng = self.rng
        last = rng.choice(names.FAMILY_SURNAMES)
        traits = _Traits(
            ethnicity=_weighted(rng, ETHNICITY_WEIGHTS),
            language=_weighted(rng, names.LANGUAGES),
            religion=_weighted(rng, names.RELIGIONS),
        )

        # Children, eldest first, one to four years apart; the youngest may not be born yet.
        births: list[date | None] = []
        age = rng.randint(0, 17) if eldest_age is None else eldest_age
        for _ in range(size - 1 if unborn else size):
            births.append(self._birthday(max(age, 0), before=self.today))
            age -= rng.randint(1, 4)
        if unborn:
            births.append(None)
        children = [self._child(traits, last=last, dob=dob) for dob in births]
        eldest = births[0] or self.today

        mother = self._adult(
            traits,
            sex=Sex.FEMALE,
            last=last,
            dob=self._birthday(rng.randint(18, 38), before=eldest),
        )
        household = [mother, *children]
        father: Person | None = None
        if rng.random() < 0.7:
            father = self._adult(
                traits,
                sex=Sex.MALE,
                last=last if rng.random() < 0.6 else rng.choice(names.FAMILY_SURNAMES),
                dob=self._birthday(rng.randint(18, 42), before=eldest),
            )
        father_at_home = father is not None and rng.random() < 0.55
        if father is not None and father_at_home:
            household.append(father)
        partner: Person | None = None
        if not father_at_home and rng.random() < 0.2:
            partner = self._adult(
                traits,
                sex=Sex.MALE,
                last=rng.choice(names.FAMILY_SURNAMES),
                dob=self._birthday(rng.randint(20, 45), before=self.today),
            )
            household.append(partner)
        grandmother: Person | None = None
        special_guardian = False
        if rng.random() < 0.12:
            assert mother.date_of_birth is not None
            grandmother = self._adult(
                traits,
                sex=Sex.FEMALE,
                last=last,
                dob=self._birthday(rng.randint(18, 30), before=mother.date_of_birth),
            )
            special_guardian = rng.random() < 0.3
            if special_guardian:
                household.append(grandmother)

        # Where they live now, and for some families where they lived before.
        moved_in = self.today - timedelta(days=rng.randint(60, 6 * YEAR))
        self._lives_at(household, self._new_address(), moved_in)
        if rng.random() < 0.35:
            before = moved_in - timedelta(days=rng.randint(YEAR, 5 * YEAR))
            self._lives_at(household, self._new_address(), before, moved_in - timedelta(days=1))
        for elsewhere in (father if not father_at_home else None, grandmother):
            if elsewhere is not None and elsewhere not in household:
                since = self.today - timedelta(days=rng.randint(100, 8 * YEAR))
                self._lives_at([elsewhere], self._new_address(), since)

        father_has_pr = rng.random() < 0.85
        for child in children:
            born = child.date_of_birth
            self._relate(child, mother, RelationshipKind.parent, pr=True, start=born)
            if father is not None:
                self._relate(child, father, RelationshipKind.parent, pr=father_has_pr, start=born)
            if partner is not None:
                self._relate(
                    child,
                    partner,
                    RelationshipKind.household_member,
                    description="Mother's partner",
                    start=max(moved_in, born) if born else None,
                )
            if grandmother is not None:
                if special_guardian:
                    self._relate(
                        child,
                        grandmother,
                        RelationshipKind.pr_holder,
                        pr=True,
                        description="Maternal grandmother, special guardian",
                        start=max(moved_in, born) if born else None,
                    )
                else:
                    self._relate(
                        child,
                        grandmother,
                        RelationshipKind.relative,
                        description="Maternal grandmother",
                        start=born,
                    )
        # Siblings read the same either way: one row per pair, from the elder to the younger.
        for i, elder in enumerate(children):
            for younger in children[i + 1 :]:
                self._relate(
                    elder,
                    younger,
                    RelationshipKind.sibling,
                    description="Full sibling" if father is not None else "Sibling",
                    start=younger.date_of_birth,
                )

    def people(self, wanted: int) -> None:
        sizes: list[int] = []
        while sum(sizes) < wanted:
            sizes.append(min(_weighted(self.rng, SIBLING_GROUP_WEIGHTS), wanted - sum(sizes)))
        unborn_families = set(
            self.rng.sample(range(len(sizes)), k=min(len(sizes), 1 + wanted // 75))
        )
        made = 0
        for index, size in enumerate(sizes):
            self.family(size, unborn=index in unborn_families)
            made += size
            if len(self.pending) >= FLUSH_EVERY:
                self.flush()
            self.report("Children and families", made, wanted)
        self.flush()
        self._restrict(1 + wanted // 75)

    def young_people(self, wanted: int) -> None:
        """Young people of 17 to 20, each with their family, for the care leavers' stories
        (they are not given the children's front-door stories)."""
        for _ in range(wanted):
            before = len(self.world.children)
            self.family(1, unborn=False, eldest_age=self.rng.randint(17, 20))
            self.world.young_people.extend(self.world.children[before:])
            self.summary.children -= len(self.world.children) - before
            self.summary.young_people += len(self.world.children) - before
            del self.world.children[before:]
        self.flush()

    def _restrict(self, how_many: int) -> None:
        """Restrict a few records (as for a staff member's child): only named users see them."""
        born = [c for c in self.world.children if c.date_of_birth is not None]
        chosen = self.rng.sample(born, k=min(how_many, len(born)))
        accounts = self.world.accounts
        for i, child in enumerate(chosen):
            child.is_restricted = True
            self.summary.restricted += 1
            # Half are visible to the demo social worker and manager; the rest to nobody but the
            # service manager, to show the 404 everyone else gets.
            named = (
                [accounts[Role.social_worker], accounts[Role.team_manager]] if i % 2 == 0 else []
            )
            for user in [*named, accounts[Role.service_manager]]:
                self.add(
                    RestrictedAccessGrant(
                        id=self.new_id(),
                        person_id=child.id,
                        user_id=user.id,
                        granted_by_id=accounts[Role.service_manager].id,
                    )
                )
        self.flush()


def demo_data_loaded(session: Session) -> bool:
    """Whether any demo account exists (demo data is loaded once per database)."""
    usernames = [account.username for account in DEMO_ACCOUNTS]
    found = session.scalar(
        select(func.count()).select_from(UserAccount).where(UserAccount.username.in_(usernames))
    )
    return bool(found)


def load_demo_data(
    session: Session,
    *,
    seed: int,
    children: int = 300,
    progress: ProgressCallback | None = None,
    settings: Settings | None = None,
) -> DemoSummary:
    """Load the fictional council into ``session`` (the caller commits).

    Refused in production: the demo accounts have published passwords, and a token anyone can
    read in the source.
    """
    settings = settings or get_settings()
    if settings.environment is Environment.production:
        raise DemoDataRefused(
            "Demo data is refused in production: its accounts have published passwords. "
            "Use `casework users create` to create real accounts."
        )
    if demo_data_loaded(session):
        raise DemoDataRefused(
            "Demo data is already loaded in this database (the demo accounts exist)."
        )
    clashes = session.scalars(
        select(Team.name).where(Team.name.in_([plan[0] for plan in TEAM_PLAN]))
    ).all()
    if clashes:
        raise DemoDataRefused(
            f"This database already has teams named like the demo ones ({', '.join(clashes)}): "
            "load demo data into an empty database."
        )
    builder = _Builder(session, seed=seed, settings=settings, progress=progress)
    builder.organisation()
    builder.people(children)
    builder.young_people(max(2, children // 40))

    from app.demo.cases import load_demo_cases

    builder.summary.cases = load_demo_cases(
        session, world=builder.world, rng=seeded(seed, "cases"), progress=progress
    )
    _load_practice(session, builder, seed)
    return builder.summary


def _load_practice(session: Session, builder: _Builder, seed: int) -> None:
    """Issue 6's practice on the walked cases, in order: early help, services and interventions,
    supervision and oversight, case file audits (each with its own random stream, so adding one
    does not reshuffle another)."""
    from app.demo.earlyhelp import load_demo_early_help
    from app.demo.practice import load_demo_audits, load_demo_interventions
    from app.demo.supervision import load_demo_supervision

    world, summary = builder.world, builder.summary
    summary.early_help_episodes = load_demo_early_help(
        session, world=world, rng=seeded(seed, "early_help")
    )
    summary.interventions = load_demo_interventions(
        session, world=world, rng=seeded(seed, "interventions")
    )
    summary.supervision_records = load_demo_supervision(
        session, world=world, rng=seeded(seed, "supervision")
    )
    summary.case_audits = load_demo_audits(session, world=world, rng=seeded(seed, "audits"))
    # Children stepped up from early help have a new case each: count every case there is.
    summary.cases = session.scalar(select(func.count()).select_from(Case)) or 0
