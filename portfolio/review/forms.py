from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
)
from wtforms import BooleanField, RadioField, SelectField
from wtforms.validators import InputRequired

from ..core.forms import CriteriaLinksField, DateInputField, long_text, submit_button, text_field
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
    submit = submit_button("Record judgement")


class WitnessTestimonyForm(FlaskForm):
    title = text_field(
        "Title",
        maximum=MAX_TITLE,
        called="The title",
        required="Enter a title",
        description="For example, Witness testimony: the half-term family workshops",
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
    submit = submit_button("Save and continue")


class SignTestimonyForm(FlaskForm):
    signed_name = text_field(
        "Your full name", maximum=MAX_SIGNED_NAME, called="Your name", required="Enter your full name"
    )
    job_title = text_field(
        "Your job title", maximum=MAX_JOB_TITLE, called="Your job title", required="Enter your job title"
    )
    confirm = BooleanField(
        "I confirm that this testimony is a true account of the apprentice's work, which I saw myself",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Confirm that the testimony is a true account")],
    )
    submit = submit_button("Sign and submit for review")


def several_judgements_form(standard, **form_args) -> FlaskForm:
    """A form judging any of the standard's criteria at once: for each, a level (or none, to leave
    it as it is) as field "<code>-level" and a note as "<code>-note"."""
    choices = [("", "Leave as it is")] + [(level.code, level.label) for level in standard.judgement_scale]

    class SeveralJudgementsForm(FlaskForm):
        submit = submit_button("Record these judgements")

    for criterion in standard:
        level = SelectField(f"Judgement of {criterion.code}", choices=choices, widget=GovSelect(), default="")
        setattr(SeveralJudgementsForm, f"{criterion.code}-level", level)
        setattr(
            SeveralJudgementsForm, f"{criterion.code}-note", text_field(f"Note on {criterion.code}", maximum=MAX_NOTE)
        )
    return SeveralJudgementsForm(**form_args)  # formdata=None for a form shown unsent


def chosen_judgements(form: FlaskForm, standard) -> dict[str, tuple[str, str]]:
    """{code: (level code, note)} of the criteria the form gives a level."""
    return {
        criterion.code: (form[f"{criterion.code}-level"].data, form[f"{criterion.code}-note"].data or "")
        for criterion in standard
        if form[f"{criterion.code}-level"].data
    }
