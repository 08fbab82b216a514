"""Forms of the skills scan and the training plan."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import Field, IntegerField, StringField
from wtforms.validators import StopValidation

from standard import Standard

from ..core.forms import CriteriaCodesField, DateInputField, long_text, submit_button
from ..models import ScanRating
from ..models.types import MAX_NOTE
from .plan import MAX_DESCRIPTION, MAX_ENGLISH_MATHS_PLAN
from .skills_scan import MAX_REASON, MAX_SUMMARY

PRIOR_LEARNING_ROWS = 5  # empty rows offered besides those recorded


class WholeNumber(IntegerField):
    """A whole number typed into a text box; blank is None (the domain checks the range)."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, required: str, called: str, example: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required, self.called, self.example = required, called, example

    def process_formdata(self, valuelist):
        self.data = None
        text = str(valuelist[0]).strip().replace(",", "") if valuelist else ""
        if not text:
            return
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            raise ValueError(f"{self.called} must be a whole number, like {self.example}")
        self.data = int(text)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.data is None:
            raise StopValidation(self.required)


class ScanRatingsField(Field):
    """A rating (`rating-K1`) and a note (`note-K1`) for every criterion of `standard`.

    `data` is {code: (rating value, note)}; `code_errors` is by input name."""

    def __init__(self, label=None, validators=None, *, missing: str, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self._standard: Standard | None = None
        self._formdata = None
        self.missing = missing
        self.code_errors: dict[str, str] = {}

    @property
    def standard(self) -> Standard | None:
        return self._standard

    @standard.setter
    def standard(self, standard: Standard) -> None:
        """The form sets the standard once made; what was posted is read for its criteria then."""
        self._standard = standard
        if self._formdata is not None:
            self.data = {
                c.code: (
                    str(self._formdata.get(f"rating-{c.code}", ""))[:20],
                    str(self._formdata.get(f"note-{c.code}", "")),
                )
                for c in standard
            }

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = dict(data) if isinstance(data, dict) else {}
        self.raw_data = None
        self._formdata = formdata if formdata else None

    def pre_validate(self, form):
        values = {r.value for r in ScanRating}
        for code, (rating, note) in self.data.items():
            if rating not in values:
                self.error_for(f"rating-{code}", self.missing.format(code=code))
            elif len(note) > MAX_NOTE:
                self.error_for(f"note-{code}", f"The note on {code} must be {MAX_NOTE:,} characters or fewer")

    def error_for(self, key: str, message: str) -> None:
        self.code_errors[key] = message
        self.errors.append(message)

    @property
    def ratings(self) -> dict[str, tuple[ScanRating | None, str]]:
        values = {r.value: r for r in ScanRating}
        return {code: (values.get(rating), note) for code, (rating, note) in self.data.items()}


class RatingsForm(FlaskForm):
    ratings = ScanRatingsField("Ratings", missing="Choose how much of {code} you already know or can do")
    submit = submit_button("Save ratings")


class ConfirmRatingsForm(FlaskForm):
    ratings = ScanRatingsField("Ratings", missing="Choose your rating of {code}")
    submit = submit_button("Confirm these ratings")


class PriorLearningRowsField(Field):
    """Rows of (subject, reason): `subject-0`, `reason-0`, ...; `data` is a list of pairs."""

    def __init__(self, label=None, validators=None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.code_errors: dict[str, str] = {}
        self.rows = PRIOR_LEARNING_ROWS

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.raw_data = None
        self.data = list(data or [])
        if formdata is None:
            self.rows = len(self.data) + PRIOR_LEARNING_ROWS
            return
        count = sum(1 for key in formdata if str(key).startswith("subject-"))
        self.rows = min(max(count, PRIOR_LEARNING_ROWS), 200)
        self.data = [
            (str(formdata.get(f"subject-{n}", ""))[:300], str(formdata.get(f"reason-{n}", "")))
            for n in range(self.rows)
        ]

    def pre_validate(self, form):
        for number, (subject, reason) in enumerate(self.data):
            if len(reason) > MAX_REASON:
                self.error_for(f"reason-{number}", f"The reason must be {MAX_REASON:,} characters or fewer")
            elif reason.strip() and not subject:
                self.error_for(f"subject-{number}", "Choose a criterion or an area of the standard")

    def error_for(self, key: str, message: str) -> None:
        self.code_errors[key] = message
        self.errors.append(message)

    def row(self, number: int) -> tuple[str, str]:
        return self.data[number] if number < len(self.data) else ("", "")


class PriorLearningForm(FlaskForm):
    hours = WholeNumber(
        "Off-the-job hours recognised as prior learning",
        required="Enter the hours recognised as prior learning, or 0",
        called="The hours",
        example=40,
        description="Taken off both the planned and the minimum off-the-job hours. Enter 0 if none.",
    )
    months = WholeNumber(
        "Months taken off the planned duration",
        required="Enter the months taken off the planned duration, or 0",
        called="The months",
        example=1,
        description="Enter 0 if the prior learning does not shorten the apprenticeship.",
    )
    items = PriorLearningRowsField("Prior learning by criterion or area")
    summary = long_text(
        "Summary (optional)", MAX_SUMMARY, description="For example, the qualifications and experience looked at."
    )
    submit = submit_button("Save prior learning")


class SignForm(FlaskForm):
    fingerprint = StringField()  # hidden in the page: the content the signer saw
    submit = submit_button("Sign")


class PlannedHoursField(StringField):
    """Hours as typed ("7.5"); `data` is a Decimal, or None when blank (the domain checks the range)."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw_data = valuelist[:1]
        text = str(valuelist[0]).strip().replace(",", "") if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            value = Decimal(text) if len(text) <= 12 else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise ValueError("Enter the hours as a number, like 7.5")
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{Decimal(self.data).normalize():f}"

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.data is None:
            raise StopValidation("Enter the hours planned for the activity")


class ActivityForm(FlaskForm):
    description = long_text(
        "What is the activity?",
        MAX_DESCRIPTION,
        called="The description",
        required="Describe the activity",
        description="For example, a workshop on object handling, or a block of study for the collections module.",
    )
    starts_on = DateInputField(
        "Planned start", required="Enter the date the activity starts", description="For example, 6 10 2025"
    )
    ends_on = DateInputField(
        "Planned end", required="Enter the date the activity ends", description="For example, 19 12 2025"
    )
    hours = PlannedHoursField("Off-the-job hours", description="For example, 35 or 7.5.")
    criteria = CriteriaCodesField("Criteria the activity covers (optional)")
    submit = submit_button("Save activity")


class EnglishMathsPlanForm(FlaskForm):
    english_maths_plan = long_text(
        "Plan for English and maths",
        MAX_ENGLISH_MATHS_PLAN,
        called="The plan for English and maths",
        description="What the apprentice will do towards English and maths, and when; or why nothing is planned.",
    )
    submit = submit_button("Save the plan for English and maths")
