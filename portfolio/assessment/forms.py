"""The assessor's form for one attempt: a grade, date and note per method of the plan, then the
overall grade. Built for the plan and the attempt, so that each method's fields have their own
names and errors (and the error summary links to each)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField

from standard import AssessmentPlan

from ..core.forms import DateInputField, RadioChoiceField, long_text, submit_button
from ..models import AssessmentMethodResult, AttemptKind
from ..models.types import MAX_NOTE
from .domain import MethodOutcome

CARRIED = "carried"  # the radio value that keeps a method's pass from the attempt before


class ResultFormBase(FlaskForm):
    attempt = HiddenField()  # the number of the attempt the page was for: a second recording of it is refused
    plan: AssessmentPlan

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for method in self.plan.methods:
            grade, day = self[f"grade_{method.code}"], self[f"date_{method.code}"]
            if grade.data not in (None, CARRIED) and day.data is None and not day.errors:
                day.errors.append(f"Enter the date “{method.name}” was assessed")
                valid = False
        return valid

    @property
    def attempt_number(self) -> int:
        value = str(self.attempt.data or "")
        return int(value) if value.isascii() and value.isdigit() else 0

    @property
    def outcomes(self) -> dict[str, MethodOutcome]:
        """Method code -> its outcome, as `record_result` takes them."""
        found = {}
        for method in self.plan.methods:
            grade = self[f"grade_{method.code}"].data
            found[method.code] = MethodOutcome(
                grade=None if grade == CARRIED else grade,
                assessed_on=self[f"date_{method.code}"].data,
                note=self[f"note_{method.code}"].data or "",
            )
        return found

    @property
    def kind_chosen(self) -> AttemptKind:
        kind = getattr(self, "kind", None)
        return AttemptKind(kind.data) if kind is not None and kind.data else AttemptKind.FIRST


def result_form(plan: AssessmentPlan, number: int, carried: dict[str, AssessmentMethodResult], **kwargs):
    """The form for attempt `number` of `plan`; `carried` are the methods passed the time before."""
    fields: dict = {"plan": plan}
    if number > 1:
        choose = "Choose whether this attempt is a resit or a retake"
        fields["kind"] = RadioChoiceField(
            "Is this attempt a resit or a retake?",
            choices=[
                (AttemptKind.RESIT.value, "Resit: assessed again without further learning"),
                (AttemptKind.RETAKE.value, "Retake: assessed again after further learning"),
            ],
            message=choose,
        )
    for method in plan.methods:
        choose = f"Choose the grade for “{method.name}”"
        choices = [(grade.name, grade.name) for grade in method.grades]
        if earlier := carried.get(method.code):
            choices.append((CARRIED, f"Not reassessed: keep the {earlier.grade.lower()} of attempt {number - 1}"))
        fields[f"grade_{method.code}"] = RadioChoiceField(method.name, choices=choices, message=choose)
        fields[f"date_{method.code}"] = DateInputField(
            "Date assessed",
            description="For example, 27 3 2026",
            called=f"The date “{method.name}” was assessed",
        )
        fields[f"note_{method.code}"] = long_text("Note (optional)", MAX_NOTE, called="The note")
    fields["grade"] = RadioChoiceField(
        "Overall grade", choices=[(g.name, g.name) for g in plan.grades], message="Choose the overall grade"
    )
    fields["note"] = long_text(
        "Note for the apprentice, employer and training provider (optional)", MAX_NOTE, called="The note"
    )
    fields["submit"] = submit_button(f"Record attempt {number}")
    form_class = type("ResultForm", (ResultFormBase,), fields)
    return form_class(**kwargs)
