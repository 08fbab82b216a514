from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput
from wtforms import BooleanField
from wtforms.validators import InputRequired

from ..core.forms import CriteriaLinksField, DateInputField, long_text, submit_button, text_field
from ..evidence.items import MAX_JUSTIFICATION, MAX_TEXT, MAX_TITLE
from .domain import MAX_JOB_TITLE, MAX_NAME, MAX_REASON, MAX_RELATIONSHIP


class _AskForm(FlaskForm):
    """The witness's address and name, first on both forms that ask someone."""

    witness_email = text_field(
        "Their email address",
        maximum=254,
        called="The email address",
        required="Enter the email address to send the request to",
        description="We email them a link to sign, and later a code to check that the address is theirs.",
    )
    witness_name = text_field(
        "Their name (optional)", maximum=MAX_NAME, called="Their name", description="We greet them by it."
    )


class WitnessRequestForm(_AskForm):
    title = text_field(
        "What the witness saw",
        maximum=MAX_TITLE,
        called="The activity",
        required="Say what activity the witness saw",
        description="The title of the testimony, for example Witness testimony: the half-term family workshops",
    )
    activity_date = DateInputField(
        "Date of the activity",
        required="Enter the date of the activity",
        called="The date of the activity",
        description="For example, 27 3 2026",
    )
    criteria = CriteriaLinksField("Criteria you ask the witness about", max_justification=MAX_JUSTIFICATION)
    text = long_text(
        "The testimony for the witness to confirm (optional)",
        MAX_TEXT,
        called="The testimony",
        description="What you understand the witness saw. Leave it blank for the witness to write it themselves.",
    )
    submit = submit_button("Send the request")


class EmployerRequestForm(_AskForm):
    submit = submit_button("Send the request")


class CodeForm(FlaskForm):
    code = text_field("Code", maximum=50, called="The code", required="Enter the 6-digit code we emailed you")
    submit = submit_button("Continue")


class SignForm(FlaskForm):
    name = text_field("Your full name", maximum=MAX_NAME, called="Your name", required="Enter your full name")
    job_title = text_field(
        "Your job title", maximum=MAX_JOB_TITLE, called="Your job title", required="Enter your job title"
    )
    relationship = text_field(
        "Your relationship to the apprentice",
        maximum=MAX_RELATIONSHIP,
        called="Your relationship to the apprentice",
        required="Say how you know the apprentice",
        description="For example, venue manager where they ran the workshop, or their line manager.",
    )
    text = long_text(
        "Your testimony",
        MAX_TEXT,
        called="The testimony",
        required="Write your testimony",
        description="What you saw the apprentice do, in your own words, and how well they did it.",
    )  # only when the request left it for the witness to write (the view drops it otherwise)
    signature = text_field(
        "Type your full name to sign",
        maximum=MAX_NAME,
        called="Your signature",
        required="Type your full name to sign",
        description="As you entered it above. Typing it is your signature.",
    )
    confirm = BooleanField(
        "I confirm that this is true, and that I am the person this request was emailed to",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Confirm that this is true")],
    )
    submit = submit_button("Sign")


class DeclineForm(FlaskForm):
    reason = long_text(
        "Why you are declining (optional)",
        MAX_REASON,
        called="The reason",
        description="The person who asked you sees this.",
    )
    submit = submit_button("Decline to sign")
