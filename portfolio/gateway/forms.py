from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from standard import Signer

from ..core.forms import RadioChoiceField, long_text
from ..models.types import MAX_NOTE
from .domain import GATEWAY_ITEMS, ITEM_TITLES, MAX_REASON


class DeclarationForm(FlaskForm):
    signer = StringField()  # hidden in the page: the party the user means to sign for
    confirm = BooleanField(
        "I confirm this declaration",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Tick the box to confirm the declaration")],
    )
    submit = SubmitField("Sign the declaration", widget=GovSubmitInput())

    def validate_signer(self, field) -> None:
        if field.data not in {s.value for s in Signer}:
            raise ValidationError("Your declaration could not be recorded. Try again.")


class GatewayDecisionBase(FlaskForm):
    """Accept or refer back each gateway item, with a reason for each referral, and a note."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for code in GATEWAY_ITEMS:
            reason = self[f"reason_{code}"]
            if self[f"decision_{code}"].data == "refer" and not (reason.data or "").strip():
                reason.errors.append(f"Give the reason for referring back “{ITEM_TITLES[code]}”")
                valid = False
        return valid

    @property
    def decisions(self) -> dict[str, tuple[bool, str]]:
        """Item code -> (accepted, reason), as `gateway.decide_gateway` takes them."""
        return {
            code: (self[f"decision_{code}"].data == "accept", self[f"reason_{code}"].data or "")
            for code in GATEWAY_ITEMS
        }


def _item_fields() -> dict:
    """A decision and a reason field per gateway item, named decision_<code> and reason_<code>."""
    fields = {}
    for code, title in ITEM_TITLES.items():
        choose = f"Choose whether to accept or refer back “{title}”"
        fields[f"decision_{code}"] = RadioChoiceField(
            title,
            choices=[("accept", "Accept"), ("refer", "Refer back")],
            validators=[InputRequired(choose)],
            message=choose,
        )
        fields[f"reason_{code}"] = long_text("Reason, if you refer it back", MAX_REASON, called="The reason")
    return fields


# Built from the list of gateway items, so that each item's fields have their own names and
# errors (and the error summary links to each).
GatewayDecisionForm = type(
    "GatewayDecisionForm",
    (GatewayDecisionBase,),
    {
        **_item_fields(),
        "note": long_text(
            "Note for the apprentice, employer and training provider (optional)", MAX_NOTE, called="The note"
        ),
        "submit": SubmitField("Record the decision", widget=GovSubmitInput()),
    },
)
