"""Turn a standard published in the public standards JSON (IfATE / Skills England) into our YAML.

KSB ids in that JSON are GUIDs; the codes K1, S1, B1 come from list position, as DfE's own
services derive them. Duties keep their KSB mappings, translated to those codes.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import yaml

from .errors import Problem, StandardError
from .loader import load_standard_text

# From 1 August 2025 the funding rules set 8 months; earlier plans ask for 12.
_SHORTER_MINIMUM_FROM = date(2025, 8, 1)

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

_HEADER = """\
# Imported from {name} (public standards JSON) by `portfolio standard import-ifate`.
# Criteria are numbered by their position in the published lists. Each kind is one area:
# group them under the standard's own headings if you wish, and check the gateway section
# against the assessment plan before loading.
"""


def import_ifate(data: bytes | str, name: str = "<json>") -> str:
    """Return our YAML for a standard in the public JSON format; StandardError on bad input."""
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise StandardError([Problem(name, exc.lineno, exc.colno, f"the JSON is not well formed: {exc.msg}")]) from None
    except UnicodeDecodeError:
        raise StandardError([Problem(name, 0, 0, "the file is not UTF-8 text")]) from None
    converter = _Converter(name)
    document = converter.convert(payload)
    if converter.problems:
        raise StandardError(converter.problems)
    text = _HEADER.format(name=name) + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=92)
    load_standard_text(text, name)  # what we write must pass our own validator
    return text


class _Converter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.name, 0, 0, f"{where}: {message}"))

    def convert(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            self.problem("the top level", "should be a JSON object describing one standard")
            return {}
        reference = self.required_text(payload, "referenceNumber")
        title = self.required_text(payload, "title")
        level = self.whole_number(payload, "level", required=True)
        version = self.text(payload.get("version")) or self.text(payload.get("versionNumber"))
        if version is None:
            self.problem("version", "is missing (neither 'version' nor 'versionNumber' is given)")
        approved = self.date(payload, "approvedForDelivery")
        earliest_start = self.date(payload, "earliestStartDate")

        document: dict[str, Any] = {
            "reference": reference,
            "title": title,
            "level": level,
            "version": version,
            "status": self.text(payload.get("status")) or "Not stated",
        }
        if approved:
            document["approved_for_delivery"] = approved
        months = self.whole_number(payload, "typicalDuration")
        if months:
            document["typical_duration"] = {"minimum_months": months, "maximum_months": months}
        lars = self.whole_number(payload, "larsCode")
        if lars:
            document["lars_code"] = lars
        source = self.text(payload.get("standardPageUrl")) or self.text(payload.get("assessmentPlanUrl"))
        if source:
            document["source"] = source

        criteria, ids = self.criteria(payload)
        options, option_ids = self.options(payload.get("options"))
        document["judgement_scale"] = DEFAULT_JUDGEMENT_SCALE
        document["gateway"] = {
            "minimum_months_on_programme": 8 if earliest_start and earliest_start >= _SHORTER_MINIMUM_FROM else 12,
            "otj_minimum_hours": self.whole_number(payload, "minimumHoursForCompliance"),
            "english_and_maths": DEFAULT_ENGLISH_AND_MATHS,
            "declarations": DEFAULT_DECLARATIONS,
        }
        document["criteria"] = criteria
        if options:
            document["options"] = options
        duties = self.duties(payload.get("duties"), ids, option_ids)
        if duties:
            document["duties"] = duties
        return document

    def criteria(self, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        tree: dict[str, Any] = {}
        ids: dict[str, str] = {}  # GUID -> code, for the duties
        for list_key, id_key, kind, letter, _ in _KSB_LISTS:
            items = payload.get(list_key)
            if items is None:
                continue
            if not isinstance(items, list):
                self.problem(list_key, "should be a list")
                continue
            criteria = []
            for position, item in enumerate(items, start=1):
                where = f"{list_key}[{position - 1}]"
                if not isinstance(item, dict):
                    self.problem(where, "should be an object with 'detail'")
                    continue
                code = f"{letter}{position}"
                if isinstance(item.get(id_key), str):
                    ids[item[id_key]] = code
                detail = self.text(item.get("detail"))
                if detail is None:
                    self.problem(where, "has no 'detail' text")
                    continue
                criteria.append({"code": code, "text": detail})
            if criteria:
                tree[kind] = [{"area": kind.capitalize(), "criteria": criteria}]
        if not tree:
            self.problem("knowledges, skills, behaviours", "no criteria are listed")
        return tree, ids

    def options(self, items: Any) -> tuple[list[dict[str, str]], dict[str, str]]:
        if not items:
            return [], {}
        if not isinstance(items, list):
            self.problem("options", "should be a list")
            return [], {}
        options, ids = [], {}
        for position, item in enumerate(items, start=1):
            code = f"O{position}"
            if isinstance(item, str):
                title, option_id = self.text(item), None
            elif isinstance(item, dict):
                title = self.text(item.get("title"))
                option_id = item.get("optionId")
            else:
                title, option_id = None, None
            if title is None:
                self.problem(f"options[{position - 1}]", "has no title")
                continue
            options.append({"code": code, "title": title})
            for key in filter(None, (option_id, title)):
                ids[str(key)] = code
        return options, ids

    def duties(self, items: Any, ksb_ids: dict[str, str], option_ids: dict[str, str]) -> list[dict[str, Any]]:
        if not items:
            return []
        if not isinstance(items, list):
            self.problem("duties", "should be a list")
            return []
        duties = []
        for position, item in enumerate(items, start=1):
            where = f"duties[{position - 1}]"
            if not isinstance(item, dict):
                self.problem(where, "should be an object with 'dutyDetail'")
                continue
            text = self.text(item.get("dutyDetail"))
            if text is None:
                self.problem(where, "has no 'dutyDetail' text")
                continue
            codes: list[str] = []
            for *_, mapped_key in _KSB_LISTS:
                codes.extend(self.mapped(item.get(mapped_key), ksb_ids, f"{where}.{mapped_key}"))
            duty: dict[str, Any] = {
                "code": f"D{position}",
                "text": text,
                "core": item.get("isThisACoreDuty") not in (False, 0, "0", "false", "No"),
                "criteria": codes,
            }
            options = self.mapped(item.get("mappedOptions"), option_ids, f"{where}.mappedOptions")
            if options:
                duty["options"] = options
            duties.append(duty)
        return duties

    def mapped(self, ids: Any, known: dict[str, str], where: str) -> list[str]:
        if not ids:
            return []
        if not isinstance(ids, list):
            self.problem(where, "should be a list of ids")
            return []
        codes = []
        for guid in ids:
            if str(guid) not in known:
                self.problem(where, f"names '{guid}', which is not in the standard's lists")
            else:
                codes.append(known[str(guid)])
        return codes

    # -- scalar fields ----------------------------------------------------------------------

    @staticmethod
    def text(value: Any) -> str | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None
        return " ".join(value.split()) or None

    def required_text(self, payload: dict[str, Any], key: str) -> str | None:
        value = self.text(payload.get(key))
        if value is None:
            self.problem(key, "is missing or empty")
        return value

    def whole_number(self, payload: dict[str, Any], key: str, required: bool = False) -> int | None:
        value = payload.get(key)
        if value is None or value == "":
            if required:
                self.problem(key, "is missing")
            return None
        if isinstance(value, bool) or not str(value).strip().isdigit():
            self.problem(key, f"should be a whole number, not {json.dumps(value)}")
            return None
        return int(str(value).strip())

    def date(self, payload: dict[str, Any], key: str) -> date | None:
        value = payload.get(key)
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            self.problem(key, f"should be a date such as 2019-02-14, not {json.dumps(value)}")
            return None
