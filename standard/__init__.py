"""Apprenticeship standards as typed, validated criteria trees. Pure Python: no Flask, no database."""

from .coverage import Coverage, Status, Tally, roll_up
from .errors import Problem, StandardError
from .loader import load_standard, load_standard_bytes, load_standard_text
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
from .shipped import shipped_path, shipped_references, shipped_standard

__all__ = [
    "Alternative",
    "Area",
    "AssessmentMethod",
    "AssessmentPlan",
    "Coverage",
    "Criterion",
    "Declaration",
    "Duration",
    "Duty",
    "EnglishAndMaths",
    "GatewayRequirements",
    "Grade",
    "JudgementLevel",
    "Kind",
    "Option",
    "Problem",
    "Signer",
    "Standard",
    "StandardError",
    "Status",
    "Tally",
    "load_standard",
    "load_standard_bytes",
    "load_standard_text",
    "roll_up",
    "shipped_path",
    "shipped_references",
    "shipped_standard",
]
