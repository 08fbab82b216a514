"""Rule sets from YAML: the shipped ones, and a folder of a provider's own that replaces or adds
funding years (the rules change every August; an update need not wait for a release)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .model import DurationException, OffTheJob, OtjRule, RuleSet

SHIPPED = resources.files(__package__) / "rule_sets"


class RulesError(Exception):
    """A rule set file that cannot be used; the message names the file and what is wrong."""


class RuleSets:
    """Every rule set, found by the start date of an apprenticeship."""

    def __init__(self, rule_sets: Iterable[RuleSet]) -> None:
        by_start = {r.starts_from: r for r in rule_sets}
        if not by_start:
            raise RulesError("no funding rule sets were found")
        self.all = tuple(by_start[day] for day in sorted(by_start))
        self._starts = [r.starts_from for r in self.all]

    def for_start(self, start: date) -> RuleSet:
        """The rules of the latest set starting on or before `start` (the earliest set before it)."""
        index = bisect.bisect_right(self._starts, start) - 1
        return self.all[max(index, 0)]


def load_rule_sets(folder: str | Path | None = None) -> RuleSets:
    """The shipped rule sets, with those of `folder` replacing any of the same funding year."""
    found = {r.funding_year: r for r in _read_folder(SHIPPED)}
    if folder:
        path = Path(folder)
        if not path.is_dir():
            raise RulesError(f"{path}: not a folder of rule set files")
        found |= {r.funding_year: r for r in _read_folder(path)}
    return RuleSets(found.values())


def _read_folder(folder: Any) -> list[RuleSet]:
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)
    return [read_rule_set(p.read_text(encoding="utf-8"), p.name) for p in files]


def read_rule_set(text: str, name: str) -> RuleSet:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesError(f"{name}: not valid YAML ({error})") from None
    reader = _Reader(name)
    fields = reader.mapping(data, "the file")
    duration = reader.mapping(fields.get("minimum_duration"), "minimum_duration")
    english_and_maths = reader.mapping(fields.get("english_and_maths", {}), "english_and_maths")
    return RuleSet(
        funding_year=reader.text(fields, "funding_year"),
        starts_from=reader.day(fields, "starts_from"),
        source=reader.text(fields, "source"),
        minimum_months=reader.whole(duration, "months"),
        exceptions=tuple(
            DurationException(reader.text(e, "code"), reader.text(e, "label"))
            for e in (reader.mapping(item, "an exception") for item in duration.get("exceptions") or [])
        ),
        off_the_job=reader.off_the_job(reader.mapping(fields.get("off_the_job"), "off_the_job")),
        adults_may_leave_out_english_and_maths_from=(
            reader.day(english_and_maths, "optional_for_adults_decided_from")
            if "optional_for_adults_decided_from" in english_and_maths
            else None
        ),
        review_weeks=reader.whole(
            reader.mapping(fields.get("progress_reviews"), "progress_reviews"), "at_least_every_weeks"
        ),
        epao_months_before_end=reader.whole(
            reader.mapping(fields.get("assessment_organisation"), "assessment_organisation"),
            "recorded_months_before_planned_end",
        ),
    )


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, message: str) -> RulesError:
        return RulesError(f"{self.name}: {message}")

    def mapping(self, value: object, called: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{called} must be a mapping of fields")
        return value

    def text(self, fields: Mapping[str, Any], key: str) -> str:
        value = fields.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} must be some text")
        return value.strip()

    def day(self, fields: Mapping[str, Any], key: str) -> date:
        value = fields.get(key)
        if not isinstance(value, date):
            raise self.fail(f"{key} must be a date such as 2025-08-01")
        return value

    def number(self, fields: Mapping[str, Any], key: str) -> Decimal:
        value = fields.get(key)
        try:
            number = Decimal(str(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is None or number < 0:
            raise self.fail(f"off_the_job.{key} must be a number of 0 or more")
        return number

    def whole(self, fields: Mapping[str, Any], key: str) -> int:
        value = fields.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.fail(f"{key} must be a whole number of 1 or more")
        return value

    def off_the_job(self, fields: Mapping[str, Any]) -> OffTheJob:
        try:
            rule = OtjRule(fields.get("rule"))
        except ValueError:
            known = ", ".join(r.value for r in OtjRule)
            raise self.fail(f"off_the_job.rule must be one of {known}") from None
        needs = {
            OtjRule.SHARE_OF_WORKING_HOURS: ("percent", "counted_weekly_hours_up_to", "statutory_leave_weeks_per_year"),
            OtjRule.HOURS_A_WEEK: (
                "hours_a_week",
                "full_time_weekly_hours",
                "part_time_percent",
                "statutory_leave_weeks_per_year",
            ),
            OtjRule.PUBLISHED_MINIMUM: (),
        }[rule]
        figures = {key: self.number(fields, key) for key in needs}
        floor = self.whole(fields, "floor_hours") if rule is OtjRule.PUBLISHED_MINIMUM else 0
        return OffTheJob(rule=rule, floor_hours=floor, **figures)
