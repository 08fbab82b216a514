from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from ..core.forms import CriteriaLinksField, DateInputField, long_text
from ..evidence.items import MAX_JUSTIFICATION, MAX_TEXT, MAX_TITLE
from ..models.types import MAX_NOTE
from .domain import MAX_JOB_TITLE, MAX_SIGNED_NAME


class JudgementForm(FlaskForm):
    level = RadioField(
        "Judgement", widget=GovRadioInput(), validators=[InputRequired("Choose a level from the judgement scale")]
    )  # the choices are the pinned standard's judgement scale, set by the view
    note = long_text(
        "Note",
        MAX_NOTE,
        called="The note",
        description="What you based the judgement on, or what the apprentice still needs to show.",
    )
    submit = SubmitField("Record judgement", widget=GovSubmitInput())


class WitnessTestimonyForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        description="For example, Witness testimony: the half-term family workshops",
        validators=[
            InputRequired("Enter a title"),
            Length(max=MAX_TITLE, message=f"The title must be {MAX_TITLE} characters or fewer"),
        ],
    )
    activity_date = DateInputField(
        "Date of the activity you saw",
        required="Enter the date of the activity",
        called="The date of the activity",
        description="For example, 27 3 2026",
    )
    text = long_text(
        "Your testimony",
        MAX_TEXT,
        called="The testimony",
        required="Write your testimony",
        description="What you saw the apprentice do, in your own words, and how well they did it.",
    )
    criteria = CriteriaLinksField("Criteria this testimony shows", max_justification=MAX_JUSTIFICATION)
    submit = SubmitField("Save and continue", widget=GovSubmitInput())


class SignTestimonyForm(FlaskForm):
    signed_name = StringField(
        "Your full name",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your full name"),
            Length(max=MAX_SIGNED_NAME, message=f"Your name must be {MAX_SIGNED_NAME} characters or fewer"),
        ],
    )
    job_title = StringField(
        "Your job title",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your job title"),
            Length(max=MAX_JOB_TITLE, message=f"Your job title must be {MAX_JOB_TITLE} characters or fewer"),
        ],
    )
    confirm = BooleanField(
        "I confirm that this testimony is a true account of the apprentice's work, which I saw myself",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Confirm that the testimony is a true account")],
    )
    submit = SubmitField("Sign and submit for review", widget=GovSubmitInput())
