"""Plain typed objects for an apprenticeship standard and its criteria tree."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date


class Kind(enum.Enum):
    """The three kinds of criteria, in the order a standard lists them."""

    KNOWLEDGE = "knowledge"
    SKILLS = "skills"
    BEHAVIOURS = "behaviours"

    @property
    def letter(self) -> str:
        return {"knowledge": "K", "skills": "S", "behaviours": "B"}[self.value]

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True, slots=True)
class Criterion:
    """One KSB statement, e.g. K1 or S4."""

    code: str
    text: str
    kind: Kind
    area: str

    @property
    def number(self) -> int:
        return int(self.code[1:])


@dataclass(frozen=True, slots=True)
class Area:
    """A heading within a kind, e.g. "Project Coordination"."""

    title: str
    kind: Kind
    criteria: tuple[Criterion, ...]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class JudgementLevel:
    """A step of the scale a tutor judges a criterion on."""

    code: str
    label: str
    met: bool


@dataclass(frozen=True, slots=True)
class Alternative:
    """An alternative way to meet the English and maths rule (EHC plan, BSL...)."""

    code: str
    applies_to: str
    requirement: str


@dataclass(frozen=True, slots=True)
class EnglishAndMaths:
    required_level: str
    rule: str
    alternatives: tuple[Alternative, ...] = ()


class Signer(enum.Enum):
    """The three parties who sign: a gateway declaration here, a progress review in the portfolio too."""

    APPRENTICE = "apprentice"
    EMPLOYER = "employer"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class Declaration:
    signer: Signer
    statement: str


@dataclass(frozen=True, slots=True)
class GatewayRequirements:
    english_and_maths: EnglishAndMaths
    declarations: tuple[Declaration, ...]
    # Only where the assessment plan asks for more time on programme than the funding rules do.
    minimum_months_on_programme: int | None = None
    otj_minimum_hours: int | None = None  # the version's published minimum, when it has one
    # Plans revised under the reformed assessment principles have the employer verify each behaviour
    # before the gateway to completion; unrevised plans do not.
    employer_verifies_behaviours: bool = False

    def declaration_for(self, signer: Signer) -> Declaration | None:
        return next((d for d in self.declarations if d.signer is signer), None)


@dataclass(frozen=True, slots=True)
class Option:
    """An occupational option of a standard (a specialism)."""

    code: str
    title: str


@dataclass(frozen=True, slots=True)
class Duty:
    """A duty of the occupation and the criteria it draws on."""

    code: str
    text: str
    core: bool
    criteria: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Duration:
    """Typical duration in months, as a range (15 to 21) or a single figure."""

    minimum_months: int
    maximum_months: int

    def __str__(self) -> str:
        if self.minimum_months == self.maximum_months:
            return f"{self.minimum_months} months"
        return f"{self.minimum_months} to {self.maximum_months} months"


@dataclass(frozen=True, slots=True)
class Grade:
    """A grade an assessment method, or the assessment as a whole, can give; `passed` says whether it is a pass."""

    name: str
    passed: bool


def _grade_named(grades: tuple[Grade, ...], name: str) -> Grade | None:
    return next((grade for grade in grades if grade.name == name), None)


@dataclass(frozen=True, slots=True)
class AssessmentMethod:
    """One method of the assessment plan (an observation, a professional discussion...) and its grades."""

    code: str
    name: str
    grades: tuple[Grade, ...]
    confirmed: bool = True  # false: taken on trust, to be checked against the published plan

    def grade(self, name: str) -> Grade | None:
        return _grade_named(self.grades, name)


@dataclass(frozen=True, slots=True)
class AssessmentPlan:
    """The assessment plan's methods and grades, and how the overall grade follows from them.

    `confirmed` false (for the plan, a method or the overall grades) marks what the file's author
    could not confirm from the published plan; `note` then says what is to be completed."""

    methods: tuple[AssessmentMethod, ...]
    grades: tuple[Grade, ...]  # the overall grades, lowest first
    every_method_must_pass: bool = True  # an overall pass needs a pass in every method
    rule: str | None = None  # how the plan words the way the overall grade follows from the methods
    plan: str | None = None  # the plan's reference, e.g. ST0396/AP01
    confirmed: bool = True
    overall_confirmed: bool = True
    note: str | None = None

    def method(self, code: str) -> AssessmentMethod | None:
        return next((method for method in self.methods if method.code == code), None)

    def grade(self, name: str) -> Grade | None:
        """The overall grade of that name."""
        return _grade_named(self.grades, name)

    @property
    def fully_confirmed(self) -> bool:
        return self.confirmed and self.overall_confirmed and all(method.confirmed for method in self.methods)

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        """What is marked unconfirmed, in words: "the plan", a method's name, "the overall grades"."""
        parts = [] if self.confirmed else ["the plan as a whole"]
        parts += [method.name for method in self.methods if not method.confirmed]
        return tuple(parts + ([] if self.overall_confirmed else ["the overall grades"]))


@dataclass(frozen=True, slots=True)
class Standard:
    """A version of an apprenticeship standard with its criteria tree."""

    reference: str
    title: str
    level: int
    version: str
    status: str
    areas: tuple[Area, ...]
    judgement_scale: tuple[JudgementLevel, ...]
    gateway: GatewayRequirements
    approved_for_delivery: date | None = None
    typical_duration: Duration | None = None
    lars_code: int | None = None
    source: str | None = None
    options: tuple[Option, ...] = ()
    duties: tuple[Duty, ...] = ()
    assessment: AssessmentPlan | None = None  # None: no plan held yet, so no result can be recorded
    _by_code: dict[str, Criterion] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {c.code: c for area in self.areas for c in area.criteria}
        object.__setattr__(self, "_by_code", by_code)

    def __iter__(self) -> Iterator[Criterion]:
        """Every criterion, in the standard's order (K, then S, then B)."""
        for area in self.areas:
            yield from area.criteria

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __getitem__(self, code: str) -> Criterion:
        return self._by_code[code]

    def criterion(self, code: str) -> Criterion | None:
        return self._by_code.get(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds this standard has criteria for, in order."""
        return tuple(k for k in Kind if self.areas_of(k))

    def areas_of(self, kind: Kind) -> tuple[Area, ...]:
        return tuple(a for a in self.areas if a.kind is kind)

    def criteria_of(self, kind: Kind) -> tuple[Criterion, ...]:
        return tuple(c for a in self.areas_of(kind) for c in a.criteria)

    @property
    def met_levels(self) -> frozenset[str]:
        return frozenset(level.code for level in self.judgement_scale if level.met)

    def judgement_level(self, code: str) -> JudgementLevel | None:
        return next((lv for lv in self.judgement_scale if lv.code == code), None)

    @property
    def label(self) -> str:
        return f"{self.reference} {self.title} (level {self.level}, version {self.version})"
