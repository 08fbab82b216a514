"""Forms of the admin area. Choices that come from the database are filled in by the views.

Every field says in its own words what is wrong: a value outside the choices, a date that
does not exist or a number that is not one gets a message about that field, never WTForms'
generic wording and never an exception.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovPasswordInput,
    GovTextInput,
)
from wtforms import (
    IntegerField,
    PasswordField,
)
from wtforms.validators import InputRequired, StopValidation

from ..core.forms import (
    ChoiceField,
    ConfirmForm,
    DateInputField,
    RadioChoiceField,
    length_limit,
    long_text,
    submit_button,
    text_field,
)
from ..models import AgeBand, EnrolmentStatus, OrganisationKind, Role
from ..models.types import MAX_NOTE

MAXIMUM_STANDARD_BYTES = 1024 * 1024
# Below Flask's limit for one form field (MAX_FORM_MEMORY_SIZE, 500 KB), so the form says what is wrong.
MAXIMUM_STANDARD_CHARACTERS = 400_000


class AdminForm(FlaskForm):
    class Meta:
        def wrap_formdata(self, form, formdata):
            # Form posts only: a JSON body could carry numbers or lists where text is expected.
            if request and request.is_json:
                return None
            return super().wrap_formdata(form, formdata)


class WholeNumberField(IntegerField):
    """A whole number typed into a text box; blank is None. The domain checks its range."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, required=None, called=None, example: int = 12, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required = required
        self.called = called or self.label.text
        self.example = example

    def process_formdata(self, valuelist):
        self.data = None
        text = str(valuelist[0]).strip().replace(",", "") if valuelist else ""
        if not text:
            return
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"{self.called} must be a whole number, like {self.example}")
        if len(text) > 9:
            raise ValueError(f"{self.called} is too large")
        self.data = int(text)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.data is None and self.required:
            raise StopValidation(self.required)


class WeeklyHoursField(WholeNumberField):
    """Hours a week, to one decimal place (37.5); blank is None. The domain checks the range."""

    def process_formdata(self, valuelist):
        self.data = None
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            return
        try:
            hours = Decimal(text) if text.isascii() and len(text) <= 6 else None
        except InvalidOperation:
            hours = None
        if hours is None or not hours.is_finite() or hours != hours.quantize(Decimal("0.1")):
            raise ValueError(f"{self.called} must be a number of hours, like 37.5")
        self.data = hours


def password_field(label: str, *, required: str, **kwargs) -> PasswordField:
    return PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[InputRequired(required), length_limit(f"The {label.lower()}", 200)],
        **kwargs,
    )


# Organisations


class RenameOrganisationForm(AdminForm):
    name = text_field("Name", required="Enter the organisation's name", maximum=200, called="The name")
    submit = submit_button("Rename organisation")


class OrganisationForm(RenameOrganisationForm):
    kind = RadioChoiceField(
        "Kind of organisation",
        message="Choose the kind of organisation",
        choices=[(kind.value, kind.label) for kind in OrganisationKind],
        coerce=OrganisationKind,
    )
    submit = submit_button("Create organisation")


# Users


class UserForm(AdminForm):
    INVITE, SET_PASSWORD = "invite", "password"

    name = text_field("Full name", required="Enter the person's full name", maximum=200, called="The name")
    email = text_field("Email address", required="Enter the email address", maximum=254, called="The email address")
    role = RadioChoiceField(
        "Role",
        message="Choose the role",
        choices=[(role.value, role.label) for role in Role],
        coerce=Role,
    )
    organisation = ChoiceField(
        "Organisation",
        message="Choose the organisation",
        coerce=int,
        description="Apprentices and employers belong to an employer; tutors and administrators to a training "
        "provider; assessors to an assessment organisation.",
    )
    first_password = RadioChoiceField(
        "Their first password",
        message="Choose how they get their first password",
        choices=[
            (INVITE, "Send an invitation by email: they choose their own password"),
            (SET_PASSWORD, "Set a password now, and give it to them yourself"),
        ],
        default=INVITE,
    )
    password = PasswordField(
        "Initial password (only if you set one now)",
        widget=GovPasswordInput(),
        validators=[length_limit("The initial password", 200)],
        description="At least 10 characters. Give it to the person securely; they can change it after signing in.",
    )
    submit = submit_button("Create user")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.first_password.data == self.SET_PASSWORD and not self.password.data:
            self.password.errors.append("Enter an initial password")
            return False
        if self.first_password.data == self.INVITE and self.password.data:
            self.password.errors.append("Leave the password blank to send an invitation, or choose to set one now")
            return False
        return valid


class ResetPasswordForm(AdminForm):
    password = password_field(
        "New password",
        required="Enter a new password",
        description="At least 10 characters. The person's open sessions end; give them the new password securely.",
    )
    submit = submit_button("Reset password")


class ActionForm(AdminForm, ConfirmForm):
    """A button that changes something: only the CSRF token and the button."""


# Enrolments


class EnrolmentForm(AdminForm):
    apprentice = ChoiceField(
        "Apprentice",
        message="Choose the apprentice",
        coerce=int,
        description="Apprentices with an open enrolment are not listed. The employer is the organisation the "
        "apprentice works at.",
    )
    standard_version = ChoiceField("Standard", message="Choose the standard", coerce=int)
    provider = ChoiceField("Training provider", message="Choose the training provider", coerce=int)
    epao = ChoiceField(
        "Assessment organisation (EPAO) (optional)",
        message="Choose an assessment organisation from the list",
        coerce=int,
        required=False,
    )
    tutor = ChoiceField("Tutor (optional)", message="Choose a tutor from the list", coerce=int, required=False)
    mentor = ChoiceField(
        "Mentor (optional)",
        message="Choose a mentor from the list",
        coerce=int,
        required=False,
        description="A line manager or workplace mentor at the apprentice's employer.",
    )
    start_date = DateInputField("Start date", required="Enter the start date", description="For example, 1 9 2025")
    planned_end_date = DateInputField(
        "Planned end date", required="Enter the planned end date", description="For example, 31 3 2027"
    )
    planned_otj_hours = WholeNumberField(
        "Planned off-the-job training hours", required="Enter the planned off-the-job training hours", example=375
    )
    age_band = RadioChoiceField(
        "Age at the start",
        message="Choose the apprentice's age at the start",
        choices=[(band.value, band.label) for band in AgeBand],
        coerce=AgeBand,
    )
    english_maths_route = RadioChoiceField("English and maths", message="Choose how English and maths will be met")
    english_maths_decided_on = DateInputField(
        "Date the English and maths route was decided",
        required="Enter the date the English and maths route was decided",
        called="The date the English and maths route was decided",
        description="For example, 15 8 2025",
    )
    english_maths_agreed_by = text_field(
        "Who agreed to leave English and maths out",
        maximum=200,
        called="Who agreed",
        description="Only when an apprentice aged 19 or over leaves them out: for example, "
        "Jo Bloggs (employer) and the apprentice.",
    )
    contracted_weekly_hours = WeeklyHoursField(
        "Contracted hours a week (optional)",
        called="The contracted hours a week",
        description="For apprenticeships starting before August 2025, whose off-the-job minimum depends on them. "
        "Blank means full-time.",
    )
    prior_learning_otj_hours = WholeNumberField(
        "Off-the-job hours recognised as prior learning (optional)",
        called="The prior learning hours",
        example=40,
        description="Taken off the planned and the minimum off-the-job hours.",
    )
    duration_exception = RadioChoiceField(
        "Shorter than the minimum duration",
        message="Choose a reason from the list, or none",
        required=False,
        description="Only if the planned duration is below the funding rules' minimum.",
    )
    minimum_months_override = WholeNumberField(
        "Minimum months on programme (optional)",
        called="The minimum months on programme",
        description="Leave blank to use the minimum of the funding rules of the start date.",
    )
    submit = submit_button("Enrol apprentice")


class EnrolmentTermsForm(EnrolmentForm):
    """The same terms, for an enrolment whose apprentice and standard are fixed."""

    apprentice = None
    standard_version = None
    submit = submit_button("Save changes")


class BreakForm(AdminForm):
    starts_on = DateInputField(
        "First day of the break", required="Enter the first day of the break", description="For example, 3 11 2026"
    )
    expected_return_on = DateInputField(
        "Expected return", required="Enter when the apprentice is expected back", description="For example, 2 2 2027"
    )
    reason = long_text(
        "Why the apprentice is taking a break", MAX_NOTE, called="The reason", required="Say why the apprentice is "
        "taking a break", description="For example, a medical reason, caring responsibilities, or a change of job.",
    )  # fmt: skip
    submit = submit_button("Start the break")


class ReturnForm(AdminForm):
    returned_on = DateInputField(
        "Day the apprentice came back",
        required="Enter the day the apprentice came back",
        description="The planned end date moves by the days of the break.",
    )
    submit = submit_button("Record the return")


class StatusForm(AdminForm):
    status = ChoiceField("New status", message="Choose the new status", coerce=EnrolmentStatus)
    note = long_text(
        "Note (optional)", MAX_NOTE, called="The note", description="Why the status changes, for the history."
    )
    submit = submit_button("Change status")


# Standards


class StandardForm(AdminForm):
    yaml_file = FileField(
        "Upload a YAML file",
        widget=GovFileInput(),
        description=f"A standard's YAML file, up to {MAXIMUM_STANDARD_BYTES // 1024:,} KB.",
    )
    yaml_text = long_text("Or paste the YAML", MAXIMUM_STANDARD_CHARACTERS, called="The pasted YAML")
    submit = submit_button("Load standard")

    source: bytes | str | None = None  # the file's bytes or the pasted text, once valid

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        has_file, has_text = self.yaml_file.data is not None, bool((self.yaml_text.data or "").strip())
        if has_file and has_text:
            self.yaml_file.errors.append("Upload a file or paste the YAML, not both")
        elif not has_file and not has_text:
            self.yaml_file.errors.append("Upload a YAML file or paste the YAML")
        elif has_file:
            self.source = self.yaml_file.data.stream.read(MAXIMUM_STANDARD_BYTES + 1)
            if len(self.source) > MAXIMUM_STANDARD_BYTES:
                self.yaml_file.errors.append(f"The file must be smaller than {MAXIMUM_STANDARD_BYTES // 1024:,} KB")
        else:
            self.source = self.yaml_text.data
        return not self.errors
