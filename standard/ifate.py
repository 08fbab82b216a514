"""Turn a standard published in the public standards JSON (IfATE / Skills England) into our YAML.

KSB ids in that JSON are GUIDs; the codes K1, S1, B1 come from list position, as DfE's own
services derive them. Duties keep their KSB and option mappings, translated to those codes.

Published records are imperfect (duties map ids that are not in the payload, fields are
missing or oddly written), so what is sound is imported and the rest is reported as warnings;
only what leaves no usable tree (no criteria, no reference, title or version) is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from .errors import Problem, StandardError
from .loader import REFERENCE_PATTERN, load_standard_text, tidy_lines

DEFAULT_JUDGEMENT_SCALE = [
    {"code": "not_yet", "label": "Not yet shown", "met": False},
    {"code": "developing", "label": "Partly shown", "met": False},
    {"code": "met", "label": "Met", "met": True},
]

DEFAULT_ENGLISH_AND_MATHS = {
    "required_level": "Level 2",
    "rule": "Apprentices without level 2 English and maths will need to achieve this level "
    "prior to taking the end-point assessment.",
    "alternatives": [
        {
            "code": "ehc_plan",
            "applies_to": "Apprentices with an education, health and care plan or a legacy statement",
            "requirement": "Entry Level 3 in English and maths",
        },
        {
            "code": "bsl",
            "applies_to": "Apprentices for whom British Sign Language is their primary language",
            "requirement": "A British Sign Language qualification in place of the English qualification",
        },
    ],
}

DEFAULT_DECLARATIONS = [
    {
        "signer": "apprentice",
        "statement": "I confirm that the evidence in this portfolio is my own work and a true "
        "record of what I did, and that I feel ready to take the end-point assessment.",
    },
    {
        "signer": "employer",
        "statement": "I confirm that the apprentice consistently works at or above the level of "
        "the occupational standard, has completed the off-the-job training agreed in the "
        "training plan, and is ready for end-point assessment.",
    },
    {
        "signer": "provider",
        "statement": "I confirm that the apprentice has completed the training programme, that "
        "the portfolio evidence has been reviewed and mapped to the standard, and that the "
        "gateway requirements, including English and maths, have been met.",
    },
]

_KSB_LISTS = (
    # (JSON list, id field, our kind, letter, the duty field that maps to it)
    ("knowledges", "knowledgeId", "knowledge", "K", "mappedKnowledge"),
    ("skills", "skillId", "skills", "S", "mappedSkills"),
    ("behaviours", "behaviourId", "behaviours", "B", "mappedBehaviour"),
)

# The API has named an option's fields differently over time; the first one present is used.
_OPTION_TITLE_FIELDS = ("title", "optionTitle", "name", "optionName")
_OPTION_ID_FIELDS = ("optionId", "id")

# A KSB of several parts comes with its parts on lines of their own or run together, each
# after a bullet (U+F0B7 is the bullet of text pasted from Word's Symbol font).
_BULLET = re.compile(r"\s*[\u2022\u25cf\u25aa\u25e6\u2023\u2043\uf0b7]\s*(?=\S)")

# "278", 278 or "1,531": counts are published as text with thousands separators.
_WHOLE_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")

_HEADER = """\
# Imported from {name} (public standards JSON) by `portfolio standard import-ifate`.
# Criteria are numbered by their position in the published lists. Each kind is one area:
# group them under the standard's own headings if you wish, and check the gateway section
# against the assessment plan before loading.
"""


@dataclass(frozen=True, slots=True)
class Imported:
    """The YAML made from a record, and what was dropped or overridden on the way, for a person to check."""

    text: str
    warnings: tuple[Problem, ...] = ()


def import_ifate(
    data: bytes | str,
    name: str = "<json>",
    *,
    reference: str | None = None,
    version: str | None = None,
    title: str | None = None,
) -> Imported:
    """Return our YAML for a standard in the public JSON format, with warnings; StandardError if unusable.

    `reference`, `version` and `title` stand in for fields the record lacks, and win over the
    record's own (with a warning) when both are given.
    """
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise StandardError([Problem(name, exc.lineno, exc.colno, f"the JSON is not well formed: {exc.msg}")]) from None
    except UnicodeDecodeError:
        raise StandardError([Problem(name, 0, 0, "the file is not UTF-8 text")]) from None
    converter = _Converter(name)
    document = converter.convert(payload, reference=reference, version=version, title=title)
    if converter.problems:
        raise StandardError(converter.problems)
    text = _HEADER.format(name=name) + yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=92
    )
    load_standard_text(text, name)  # what we write must pass our own validator
    return Imported(text, tuple(converter.warnings))


class _Dumper(yaml.SafeDumper):
    """Writes a text of several lines as a literal block, so that each part keeps its line."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_text)


# id or title (folded to compare) -> our code, or None for an item that was left out
_Known = dict[str, str | None]


class _Converter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.name, 0, 0, f"{where}: {message}"))

    def warning(self, where: str, message: str) -> None:
        self.warnings.append(Problem(self.name, 0, 0, f"{where}: {message}"))

    def convert(self, payload: Any, *, reference: str | None, version: str | None, title: str | None) -> dict[str, Any]:
        if not isinstance(payload, dict):
            self.problem("the top level", "should be a JSON object describing one standard")
            return {}
        reference = self.identity(payload, ("referenceNumber",), reference, "--reference", "ST0123")
        if reference is not None and not REFERENCE_PATTERN.fullmatch(reference):
            self.problem("the reference", f"'{reference}' is not of the form ST0000; pass --reference ST0123")
        title = self.identity(payload, ("title",), title, "--title", "'Museum technician'")
        level = self.count(payload, "level", minimum=2, required=True)
        version = self.identity(payload, ("version", "versionNumber"), version, "--version", "1.0")
        approved = self.date(payload, "approvedForDelivery")

        document: dict[str, Any] = {
            "reference": reference,
            "title": title,
            "level": level,
            "version": version,
            "status": _one_line(payload.get("status")) or "Not stated",
        }
        if approved:
            document["approved_for_delivery"] = approved
        months = self.count(payload, "typicalDuration")
        if months:
            document["typical_duration"] = {"minimum_months": months, "maximum_months": months}
        lars = self.count(payload, "larsCode")
        if lars:
            document["lars_code"] = lars
        source = _one_line(payload.get("standardPageUrl")) or _one_line(payload.get("assessmentPlanUrl"))
        if source:
            document["source"] = source

        criteria, ksb_ids = self.criteria(payload)
        options, option_ids = self.options(payload)
        document["judgement_scale"] = DEFAULT_JUDGEMENT_SCALE
        document["gateway"] = {
            # No minimum_months_on_programme: the funding rules of each start date set it (funding_rules/).
            # null or "" means the version publishes no minimum: the enrolment's plan sets it
            "otj_minimum_hours": self.count(payload, "minimumHoursForCompliance"),
            "english_and_maths": DEFAULT_ENGLISH_AND_MATHS,
            "declarations": DEFAULT_DECLARATIONS,
        }
        document["criteria"] = criteria
        if options:
            document["options"] = options
        duties = self.duties(payload, ksb_ids, option_ids)
        if duties:
            document["duties"] = duties
        return document

    def identity(
        self, payload: dict[str, Any], fields: tuple[str, ...], given: str | None, option: str, example: str
    ) -> str | None:
        """A field naming the standard: the option given wins, the record's own stands in, else refuse."""
        recorded = _first(payload, fields)
        chosen = _one_line(given)
        if chosen and recorded and chosen != recorded:
            self.warning(fields[0], f"the record says '{recorded}' and {option} says '{chosen}': using '{chosen}'")
        if not chosen and not recorded:
            neither = f" (neither {' nor '.join(repr(f) for f in fields)} is given)" if len(fields) > 1 else ""
            self.problem(fields[0], f"is missing from the record{neither}; pass {option}, e.g. {option} {example}")
        return chosen or recorded

    def criteria(self, payload: dict[str, Any]) -> tuple[dict[str, Any], _Known]:
        tree: dict[str, Any] = {}
        ids: _Known = {}
        for list_key, id_key, kind, letter, _ in _KSB_LISTS:
            criteria = []
            for position, item in enumerate(self.items(payload, list_key), start=1):
                code = f"{letter}{position}"
                fields = item if isinstance(item, dict) else {}
                text = _parts(fields.get("detail"))
                self.remember(ids, fields.get(id_key), code if text else None)
                if text is None:
                    self.warning(f"{list_key}[{position - 1}]", f"has no 'detail' text: {code} is left out")
                    continue
                criteria.append({"code": code, "text": text})
            if criteria:
                tree[kind] = [{"area": kind.capitalize(), "criteria": criteria}]
        if not tree:
            self.problem("knowledges, skills, behaviours", "no criteria with text are listed")
        return tree, ids

    def options(self, payload: dict[str, Any]) -> tuple[list[dict[str, str]], _Known]:
        options: list[dict[str, str]] = []
        ids: _Known = {}
        for position, item in enumerate(self.items(payload, "options"), start=1):
            code = f"O{position}"
            if isinstance(item, dict):
                title = _first(item, _OPTION_TITLE_FIELDS)
                self.remember(ids, _first(item, _OPTION_ID_FIELDS), code if title else None)
            else:
                title = _one_line(item)
            if title is None:
                fields = ", ".join(_OPTION_TITLE_FIELDS)
                self.warning(f"options[{position - 1}]", f"has no title (none of {fields}): {code} is left out")
                continue
            self.remember(ids, title, code)
            options.append({"code": code, "title": title})
        return options, ids

    def duties(self, payload: dict[str, Any], ksb_ids: _Known, option_ids: _Known) -> list[dict[str, Any]]:
        duties = []
        for position, item in enumerate(self.items(payload, "duties"), start=1):
            where = f"duties[{position - 1}]"
            fields = item if isinstance(item, dict) else {}
            text = _one_line(fields.get("dutyDetail"))
            if text is None:
                self.warning(where, f"has no 'dutyDetail' text: D{position} is left out")
                continue
            codes: list[str] = []
            for *_, mapped_key in _KSB_LISTS:
                codes += self.mapped(fields, mapped_key, ksb_ids, where, "knowledges, skills or behaviours")
            duty: dict[str, Any] = {
                "code": f"D{position}",
                "text": text,
                "core": fields.get("isThisACoreDuty") not in (False, 0, "0", "false", "No"),
                "criteria": list(dict.fromkeys(codes)),
            }
            options = self.mapped(fields, "mappedOptions", option_ids, where, "options")
            if options:
                duty["options"] = list(dict.fromkeys(options))
            duties.append(duty)
        return duties

    def mapped(self, duty: dict[str, Any], key: str, known: _Known, where: str, lists: str) -> list[str]:
        """The codes a duty's mapping names; each id or title not imported is dropped with a warning."""
        codes = []
        for name in self.items(duty, key, where=f"{where}.{key}"):
            written = _one_line(name) or json.dumps(name)
            code = known.get(_folded(written), "")
            if code:
                codes.append(code)
            elif code is None:
                self.warning(f"{where}.{key}", f"dropped the mapping to '{written}', which was left out above")
            else:
                self.warning(
                    f"{where}.{key}", f"dropped the mapping to '{written}', which is not in the payload's {lists}"
                )
        return codes

    def items(self, payload: dict[str, Any], key: str, *, where: str | None = None) -> list[Any]:
        """The list under `key`, empty when it is absent or null; a warning when it is not a list."""
        value = payload.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.warning(where or key, f"should be a list, not {json.dumps(value)[:40]}: left out")
            return []
        return value

    @staticmethod
    def remember(known: _Known, name: Any, code: str | None) -> None:
        written = _one_line(name)
        if written:
            known[_folded(written)] = code

    # -- scalar fields ----------------------------------------------------------------------

    def count(self, payload: dict[str, Any], key: str, *, minimum: int = 1, required: bool = False) -> int | None:
        """A whole number such as 18, "278" or "1,531"; None when absent or empty (not published)."""
        value = payload.get(key)
        written = _one_line(value)
        if isinstance(value, float) and value.is_integer():
            written = str(int(value))
        if value is None or (isinstance(value, str) and written is None):
            if required:
                self.problem(key, "is missing")
            return None
        number = int(written.replace(",", "")) if written and _WHOLE_NUMBER.fullmatch(written) else None
        if number is None or number < minimum:
            message = f"should be a whole number of at least {minimum}, not {json.dumps(value)}"
            if required:
                self.problem(key, message)
            else:
                self.warning(key, f"{message}: left out")
            return None
        return number

    def date(self, payload: dict[str, Any], key: str) -> date | None:
        value = payload.get(key)
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self.warning(key, f"should be a date such as 2019-02-14, not {json.dumps(value)}: left out")
            return None


def _one_line(value: Any) -> str | None:
    """A text or number as one line of text; None for anything else or for blank text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _parts(value: Any) -> str | None:
    """A KSB's text with each of its parts (a lead-in, then each bullet) on a line of its own."""
    if not isinstance(value, str):
        return _one_line(value)
    return tidy_lines(_BULLET.sub("\n\u2022 ", value)) or None


def _first(item: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    """The text of the first of `fields` that has some, for a value the API names in several ways."""
    return next(filter(None, (_one_line(item.get(field)) for field in fields)), None)


def _folded(name: str) -> str:
    """Ids and titles (already on one line) compared regardless of case: the API is not consistent in it."""
    return name.casefold()
