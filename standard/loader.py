"""Read a standard from YAML, check it, and build the typed criteria tree.

The YAML is composed into nodes (which keep their line and column) and read
against the schema by hand, so that every problem is reported where it is and
all problems are reported at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import yaml

from .errors import Problem, StandardError
from .model import (
    Alternative,
    Area,
    AssessmentMethod,
    AssessmentPlan,
    Criterion,
    Declaration,
    Duration,
    Duty,
    EnglishAndMaths,
    GatewayRequirements,
    Grade,
    JudgementLevel,
    Kind,
    Option,
    Signer,
    Standard,
)

# libyaml's parser is several times faster; fall back to pure Python where it is missing.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
REFERENCE_PATTERN = re.compile(r"ST\d{4}")
_LEVEL_CODE = re.compile(r"[a-z][a-z0-9_-]*")
_OPTION_CODE = re.compile(r"O\d+")
_DUTY_CODE = re.compile(r"D\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_METHOD_CODE = 40  # what the portfolio stores of a method's code and a grade's name
MAX_GRADE_NAME = 60

T = TypeVar("T")


def load_standard(path: str | os.PathLike[str]) -> Standard:
    """Load and check the standard in a YAML file; raise StandardError listing every problem."""
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise StandardError([Problem(name, 0, 0, f"cannot read the file: {exc.strerror}")]) from None
    return load_standard_bytes(data, name)


def load_standard_bytes(data: bytes, name: str = "<standard>") -> Standard:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise StandardError([Problem(name, line, column, "the file is not UTF-8 text")]) from None
    return load_standard_text(text, name)


def load_standard_text(text: str, name: str = "<standard>") -> Standard:
    """Check a standard given as YAML text; `name` is used in problem reports."""
    root = _compose(text, name)
    reader = _Reader(name)
    standard = reader.standard(root)
    if reader.problems or standard is None:
        raise StandardError(reader.problems)
    return standard


def _compose(text: str, name: str) -> yaml.Node:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"the YAML is not well formed: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            message += f" ({exc.context}); check the indentation and punctuation here"
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise StandardError([Problem(name, line, column, message)]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        message = f"the file contains a character YAML does not allow ({exc.character!r})"
        raise StandardError([Problem(name, line, column, message)]) from None
    except yaml.YAMLError as exc:
        raise StandardError([Problem(name, 0, 0, f"the YAML is not well formed: {exc}")]) from None
    if root is None:
        raise StandardError([Problem(name, 1, 1, "the file is empty")])
    return root


class _Reader:
    """Reads nodes against the schema, collecting problems instead of stopping at the first."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []

    # -- reporting and basic shapes -------------------------------------------------------

    def problem(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.name, mark.line + 1, mark.column + 1, message))

    def mapping(
        self, node: yaml.Node, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} should be a set of 'key: value' lines")
            return None
        allowed = required + optional
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"{what} has a key that is not a plain word")
            elif key in found:
                self.problem(key_node, f"'{key}' is given twice in {what}")
            elif key not in allowed:
                self.problem(key_node, f"unknown key '{key}' in {what}; expected one of: {', '.join(allowed)}")
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.problem(node, f"{what} is missing '{key}'")
        return found

    def sequence(self, node: yaml.Node, what: str, *, allow_empty: bool = False) -> list[yaml.Node]:
        if _is_null(node) and allow_empty:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} should be a list of '- ' items")
            return []
        if not node.value and not allow_empty:
            self.problem(node, f"{what} should not be empty")
        return list(node.value)

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{what} should be a single value, not a list or a mapping")
            return None
        return node.value

    def text(self, node: yaml.Node, what: str, *, keep_lines: bool = False) -> str | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        value = tidy_lines(value) if keep_lines else " ".join(value.split())
        if not value or _is_null(node):
            self.problem(node, f"{what} has no text")
            return None
        return value

    def code(self, node: yaml.Node, what: str, pattern: re.Pattern[str], form: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not pattern.fullmatch(value):
            self.problem(node, f"{what} '{value}' is not of the form {form}")
            return None
        return value

    def integer(self, node: yaml.Node, what: str, minimum: int = 0) -> int | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        if not re.fullmatch(r"\d+", value.strip()) or int(value) < minimum:
            self.problem(node, f"{what} should be a whole number of at least {minimum}, not '{value}'")
            return None
        return int(value)

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        if node.tag != _BOOL_TAG and value not in ("true", "false"):
            self.problem(node, f"{what} should be true or false, not '{value}'")
            return None
        return value.lower() in ("true", "yes", "on", "y")

    def date(self, node: yaml.Node, what: str) -> date | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.problem(node, f"{what} should be a date written YYYY-MM-DD, not '{value}'")
            return None

    def optional(self, fields: dict[str, yaml.Node], key: str, read: Callable[[yaml.Node], T | None]) -> T | None:
        node = fields.get(key)
        if node is None or _is_null(node):
            return None
        return read(node)

    def unique(self, seen: dict[str, yaml.Node], value: str | None, node: yaml.Node, what: str) -> None:
        if value is None:
            return
        if value in seen:
            first = seen[value].start_mark.line + 1
            self.problem(node, f"{what} '{value}' is used twice (first on line {first})")
        else:
            seen[value] = node

    # -- the schema -----------------------------------------------------------------------

    def standard(self, root: yaml.Node) -> Standard | None:
        fields = self.mapping(
            root,
            "the standard",
            required=(
                "reference", "title", "level", "version", "status",
                "judgement_scale", "gateway", "criteria",
            ),
            optional=(
                "approved_for_delivery", "typical_duration", "lars_code", "source",
                "options", "duties", "assessment",
            ),
        )  # fmt: skip
        if fields is None:
            return None

        def get(key: str, read: Callable[[yaml.Node], T | None]) -> T | None:
            return read(fields[key]) if key in fields else None

        reference = get("reference", lambda n: self.code(n, "the reference", REFERENCE_PATTERN, "ST0000"))
        title = get("title", lambda n: self.text(n, "the title"))
        level = get("level", lambda n: self.integer(n, "the level", minimum=2))
        version = get("version", lambda n: self.text(n, "the version"))
        status = get("status", lambda n: self.text(n, "the status"))
        areas = get("criteria", self.criteria_tree) or ()
        scale = get("judgement_scale", self.judgement_scale)
        gateway = get("gateway", self.gateway)
        options = self.optional(fields, "options", self.options) or ()
        duties = self.optional(fields, "duties", lambda n: self.duties(n, areas, options)) or ()
        approved = self.optional(fields, "approved_for_delivery", lambda n: self.date(n, "approved_for_delivery"))
        duration = self.optional(fields, "typical_duration", self.duration)
        lars = self.optional(fields, "lars_code", lambda n: self.integer(n, "the LARS code", 1))
        source = self.optional(fields, "source", lambda n: self.text(n, "the source"))
        assessment = self.optional(fields, "assessment", self.assessment)

        if self.problems:
            return None
        assert reference and title and level and version and status and scale and gateway
        return Standard(
            reference=reference, title=title, level=level, version=version, status=status,
            areas=areas, judgement_scale=scale, gateway=gateway,
            approved_for_delivery=approved, typical_duration=duration, lars_code=lars,
            source=source, options=options, duties=duties, assessment=assessment,
        )  # fmt: skip

    def criteria_tree(self, node: yaml.Node) -> tuple[Area, ...]:
        kinds = self.mapping(node, "the criteria", required=(), optional=tuple(k.value for k in Kind))
        if kinds is None:
            return ()
        if not kinds:
            self.problem(node, "the criteria list no knowledge, skills or behaviours")
        seen_codes: dict[str, yaml.Node] = {}
        areas: list[Area] = []
        for kind in Kind:
            if kind.value not in kinds:
                continue
            seen_titles: dict[str, yaml.Node] = {}
            for area_node in self.sequence(kinds[kind.value], f"the {kind.value} areas"):
                area = self.area(area_node, kind, seen_codes)
                if area is not None:
                    self.unique(seen_titles, area.title, area_node, f"the {kind.value} area")
                    areas.append(area)
        return tuple(areas)

    def area(self, node: yaml.Node, kind: Kind, seen_codes: dict[str, yaml.Node]) -> Area | None:
        fields = self.mapping(node, f"a {kind.value} area", required=("area", "criteria"))
        if fields is None:
            return None
        title = self.text(fields["area"], "the area title") if "area" in fields else None
        where = f"area '{title}'" if title else f"a {kind.value} area"
        criteria: list[Criterion] = []
        for item in self.sequence(fields["criteria"], f"the criteria of {where}") if "criteria" in fields else ():
            criterion = self.criterion(item, kind, title or "", seen_codes)
            if criterion is not None:
                criteria.append(criterion)
        if title is None:
            return None
        return Area(title=title, kind=kind, criteria=tuple(criteria))

    def criterion(self, node: yaml.Node, kind: Kind, area: str, seen_codes: dict[str, yaml.Node]) -> Criterion | None:
        peeked = _peek(node, "code")
        fields = self.mapping(node, f"criterion {peeked}" if peeked else "a criterion", required=("code", "text"))
        if fields is None:
            return None
        code = self.text(fields["code"], "a criterion code") if "code" in fields else None
        if code is not None:
            if not re.fullmatch(rf"{kind.letter}[1-9]\d*", code):
                self.problem(
                    fields["code"],
                    f"criterion code '{code}' is listed under {kind.value}, "
                    f"whose codes are {kind.letter} followed by a number (e.g. {kind.letter}1)",
                )
                code = None
            else:
                self.unique(seen_codes, code, fields["code"], "criterion code")
        label = f"criterion {code}" if code else "a criterion"
        text = self.text(fields["text"], label, keep_lines=True) if "text" in fields else None
        if code is None or text is None:
            return None
        return Criterion(code=code, text=text, kind=kind, area=area)

    def judgement_scale(self, node: yaml.Node) -> tuple[JudgementLevel, ...]:
        levels: list[JudgementLevel] = []
        seen: dict[str, yaml.Node] = {}
        for item in self.sequence(node, "the judgement scale"):
            fields = self.mapping(item, "a judgement level", required=("code", "label", "met"))
            if fields is None or len(fields) < 3:
                continue
            code = self.code(fields["code"], "a judgement level code", _LEVEL_CODE, "lower-case words joined by _")
            self.unique(seen, code, fields["code"], "judgement level code")
            label = self.text(fields["label"], "a judgement level label")
            met = self.boolean(fields["met"], "'met'")
            if code is not None and label is not None and met is not None:
                levels.append(JudgementLevel(code=code, label=label, met=met))
        if isinstance(node, yaml.SequenceNode) and node.value and not any(lv.met for lv in levels):
            self.problem(node, "the judgement scale needs at least one level with 'met: true'")
        return tuple(levels)

    def gateway(self, node: yaml.Node) -> GatewayRequirements | None:
        fields = self.mapping(
            node,
            "the gateway",
            required=("english_and_maths", "declarations"),
            optional=("minimum_months_on_programme", "otj_minimum_hours", "employer_verifies_behaviours"),
        )
        if fields is None:
            return None
        months = self.optional(
            fields, "minimum_months_on_programme", lambda n: self.integer(n, "minimum_months_on_programme", 1)
        )
        otj = self.optional(fields, "otj_minimum_hours", lambda n: self.integer(n, "otj_minimum_hours", 1))
        verifies = self.optional(
            fields, "employer_verifies_behaviours", lambda n: self.boolean(n, "employer_verifies_behaviours")
        )
        maths = self.english_and_maths(fields["english_and_maths"]) if "english_and_maths" in fields else None
        declarations = self.declarations(fields["declarations"]) if "declarations" in fields else ()
        if maths is None:
            return None
        return GatewayRequirements(
            minimum_months_on_programme=months,
            english_and_maths=maths,
            declarations=declarations,
            otj_minimum_hours=otj,
            employer_verifies_behaviours=bool(verifies),
        )

    def english_and_maths(self, node: yaml.Node) -> EnglishAndMaths | None:
        fields = self.mapping(
            node, "english_and_maths", required=("required_level", "rule"), optional=("alternatives",)
        )
        if fields is None:
            return None
        level = self.text(fields["required_level"], "required_level") if "required_level" in fields else None
        rule = self.text(fields["rule"], "the English and maths rule") if "rule" in fields else None
        alternatives: list[Alternative] = []
        seen: dict[str, yaml.Node] = {}
        for item in (
            self.sequence(fields["alternatives"], "the alternatives", allow_empty=True)
            if "alternatives" in fields
            else ()
        ):
            alt = self.mapping(item, "an alternative", required=("code", "applies_to", "requirement"))
            if alt is None or len(alt) < 3:
                continue
            code = self.code(alt["code"], "an alternative code", _LEVEL_CODE, "lower-case words joined by _")
            self.unique(seen, code, alt["code"], "alternative code")
            applies_to = self.text(alt["applies_to"], "'applies_to'")
            requirement = self.text(alt["requirement"], "'requirement'")
            if code and applies_to and requirement:
                alternatives.append(Alternative(code, applies_to, requirement))
        if level is None or rule is None:
            return None
        return EnglishAndMaths(required_level=level, rule=rule, alternatives=tuple(alternatives))

    def declarations(self, node: yaml.Node) -> tuple[Declaration, ...]:
        declarations: list[Declaration] = []
        seen: dict[str, yaml.Node] = {}
        signers = ", ".join(s.value for s in Signer)
        for item in self.sequence(node, "the declarations"):
            fields = self.mapping(item, "a declaration", required=("signer", "statement"))
            if fields is None or len(fields) < 2:
                continue
            signer = self.text(fields["signer"], "the signer")
            if signer is not None and signer not in {s.value for s in Signer}:
                self.problem(fields["signer"], f"the signer '{signer}' should be one of: {signers}")
                signer = None
            self.unique(seen, signer, fields["signer"], "a declaration for signer")
            statement = self.text(fields["statement"], "the declaration")
            if signer and statement:
                declarations.append(Declaration(Signer(signer), statement))
        return tuple(declarations)

    def assessment(self, node: yaml.Node) -> AssessmentPlan | None:
        fields = self.mapping(
            node, "the assessment", required=("methods", "overall"), optional=("plan", "confirmed", "note")
        )
        if fields is None:
            return None
        plan = self.optional(fields, "plan", lambda n: self.text(n, "the assessment plan's reference"))
        confirmed = self.optional(fields, "confirmed", lambda n: self.boolean(n, "'confirmed'"))
        note = self.optional(fields, "note", lambda n: self.text(n, "the assessment's note"))
        methods: list[AssessmentMethod] = []
        seen: dict[str, yaml.Node] = {}
        names: dict[str, yaml.Node] = {}
        items = self.sequence(fields["methods"], "the assessment methods") if "methods" in fields else []
        for item in items:
            method = self.assessment_method(item)
            if method is not None:
                self.unique(seen, method.code, _value_node(item, "code"), "assessment method code")
                self.unique(names, method.name, _value_node(item, "name"), "assessment method name")
                methods.append(method)
        overall = self.overall(fields["overall"]) if "overall" in fields else None
        if overall is None or not items or len(methods) != len(items):
            return None
        grades, every_method, rule, overall_confirmed = overall
        result = AssessmentPlan(
            methods=tuple(methods), grades=grades, every_method_must_pass=every_method is not False, rule=rule,
            plan=plan, confirmed=confirmed is not False, overall_confirmed=overall_confirmed, note=note,
        )  # fmt: skip
        if not result.fully_confirmed and note is None:
            self.problem(
                node,
                f"the assessment marks {', '.join(result.unconfirmed)} as not confirmed: add a 'note' saying "
                "what is to be completed, and from where",
            )
            return None
        return result

    def assessment_method(self, node: yaml.Node) -> AssessmentMethod | None:
        peeked = _peek(node, "code")
        what = f"assessment method {peeked}" if peeked else "an assessment method"
        fields = self.mapping(node, what, required=("code", "name", "grades"), optional=("confirmed",))
        if fields is None:
            return None
        code = None
        if "code" in fields:
            code = self.code(fields["code"], "an assessment method code", _LEVEL_CODE, "lower-case words joined by _")
        if code is not None and len(code) > MAX_METHOD_CODE:
            self.problem(fields["code"], f"the assessment method code '{code}' is over {MAX_METHOD_CODE} characters")
            code = None
        name = self.text(fields["name"], f"the name of {what}") if "name" in fields else None
        grades = self.grades(fields["grades"], f"the grades of {what}") if "grades" in fields else None
        confirmed = self.optional(fields, "confirmed", lambda n: self.boolean(n, "'confirmed'"))
        if code is None or name is None or grades is None:
            return None
        return AssessmentMethod(code=code, name=name, grades=grades, confirmed=confirmed is not False)

    def overall(self, node: yaml.Node) -> tuple[tuple[Grade, ...], bool | None, str | None, bool] | None:
        fields = self.mapping(
            node, "the overall grading", required=("grades",), optional=("every_method_must_pass", "rule", "confirmed")
        )
        if fields is None or "grades" not in fields:
            return None
        every = self.optional(fields, "every_method_must_pass", lambda n: self.boolean(n, "'every_method_must_pass'"))
        rule = self.optional(fields, "rule", lambda n: self.text(n, "the overall grading rule"))
        confirmed = self.optional(fields, "confirmed", lambda n: self.boolean(n, "'confirmed'"))
        grades = self.grades(fields["grades"], "the overall grades")
        if grades is None:
            return None
        return grades, every, rule, confirmed is not False

    def grades(self, node: yaml.Node, what: str) -> tuple[Grade, ...] | None:
        """A list of grades, each a name and whether it is a pass; at least one of each kind, so
        that a pass and a fail can both be recorded."""
        grades: list[Grade] = []
        seen: dict[str, yaml.Node] = {}
        items = self.sequence(node, what)
        for item in items:
            fields = self.mapping(item, f"a grade in {what}", required=("name", "pass"))
            if fields is None or len(fields) < 2:
                continue
            name = self.text(fields["name"], f"a grade name in {what}")
            if name is not None and len(name) > MAX_GRADE_NAME:
                self.problem(fields["name"], f"the grade name '{name}' is longer than {MAX_GRADE_NAME} characters")
                name = None
            self.unique(seen, name, fields["name"], f"the grade in {what}")
            passed = self.boolean(fields["pass"], "'pass'")
            if name is not None and passed is not None:
                grades.append(Grade(name, passed))
        if len(grades) != len(items) or not items:
            return None
        if not any(grade.passed for grade in grades) or all(grade.passed for grade in grades):
            self.problem(node, f"{what} need at least one grade with 'pass: true' and one with 'pass: false'")
            return None
        return tuple(grades)

    def duration(self, node: yaml.Node) -> Duration | None:
        fields = self.mapping(node, "typical_duration", required=("minimum_months", "maximum_months"))
        if fields is None or len(fields) < 2:
            return None
        low = self.integer(fields["minimum_months"], "minimum_months", 1)
        high = self.integer(fields["maximum_months"], "maximum_months", 1)
        if low is None or high is None:
            return None
        if high < low:
            self.problem(node, "maximum_months should not be less than minimum_months")
            return None
        return Duration(low, high)

    def options(self, node: yaml.Node) -> tuple[Option, ...]:
        options: list[Option] = []
        seen: dict[str, yaml.Node] = {}
        for item in self.sequence(node, "the options", allow_empty=True):
            fields = self.mapping(item, "an option", required=("code", "title"))
            if fields is None or len(fields) < 2:
                continue
            code = self.code(fields["code"], "an option code", _OPTION_CODE, "O1")
            self.unique(seen, code, fields["code"], "option code")
            title = self.text(fields["title"], "the option title")
            if code and title:
                options.append(Option(code, title))
        return tuple(options)

    def duties(self, node: yaml.Node, areas: tuple[Area, ...], options: tuple[Option, ...]) -> tuple[Duty, ...]:
        known_codes = {c.code for a in areas for c in a.criteria}
        known_options = {o.code for o in options}
        duties: list[Duty] = []
        seen: dict[str, yaml.Node] = {}
        for item in self.sequence(node, "the duties", allow_empty=True):
            fields = self.mapping(item, "a duty", required=("code", "text"), optional=("core", "criteria", "options"))
            if fields is None:
                continue
            code = self.code(fields["code"], "a duty code", _DUTY_CODE, "D1") if "code" in fields else None
            self.unique(seen, code, fields.get("code"), "duty code")
            text = self.text(fields["text"], f"duty {code or ''}".strip()) if "text" in fields else None
            core = self.optional(fields, "core", lambda n: self.boolean(n, "'core'"))
            criteria = self.references(fields.get("criteria"), known_codes, "criterion", f"duty {code}")
            duty_options = self.references(fields.get("options"), known_options, "option", f"duty {code}")
            if code and text:
                duties.append(Duty(code, text, core is not False, criteria, duty_options))
        return tuple(duties)

    def references(self, node: yaml.Node | None, known: set[str], what: str, owner: str) -> tuple[str, ...]:
        if node is None:
            return ()
        codes: list[str] = []
        for item in self.sequence(node, f"the {what} codes of {owner}", allow_empty=True):
            code = self.text(item, f"a {what} code")
            if code is None:
                continue
            if code not in known:
                self.problem(item, f"{owner} names {what} '{code}', which this standard does not have")
            else:
                codes.append(code)
        return tuple(codes)


def tidy_lines(text: str) -> str:
    """Spaces collapsed within each line and blank lines dropped: a criterion of several parts
    (a lead-in and its bullets) keeps one part per line, as the standard lists them."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _peek(node: yaml.Node, key: str) -> str | None:
    """The plain value under `key` of a mapping node, for naming it in messages."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, yaml.ScalarNode):
                return value_node.value or None
    return None


def _value_node(node: yaml.Node, key: str) -> yaml.Node:
    """The value node under `key` of a mapping node (or the node itself), to report a problem at."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
    return node


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG
