"""Apprenticeship funding rules by the start date of the apprenticeship, held as data.

A pure package, like `standard`: it never imports `portfolio`. Each funding year whose rules
changed has a YAML file in `rule_sets/`; an apprenticeship follows the rules of the latest set
starting on or before its start date.
"""

from .loader import RulesError, RuleSets, load_rule_sets, read_rule_set
from .model import DurationException, OffTheJob, OtjMinimum, OtjRule, Plan, RuleSet, add_calendar_months, minimum_otj

__all__ = [
    "DurationException",
    "OffTheJob",
    "OtjMinimum",
    "OtjRule",
    "Plan",
    "RuleSet",
    "RuleSets",
    "RulesError",
    "add_calendar_months",
    "load_rule_sets",
    "minimum_otj",
    "read_rule_set",
]
