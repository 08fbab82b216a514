from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import InputRequired, ValidationError

from standard import Signer

from ..core.forms import RadioChoiceField, long_text
from ..models.types import MAX_NOTE
from .behaviours import CONFIRMED, DECISION_LABELS, NOT_YET
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

    items: tuple[str, ...] = GATEWAY_ITEMS

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for code in self.items:
            reason = self[f"reason_{code}"]
            if self[f"decision_{code}"].data == "refer" and not (reason.data or "").strip():
                reason.errors.append(f"Give the reason for referring back “{ITEM_TITLES[code]}”")
                valid = False
        return valid

    @property
    def decisions(self) -> dict[str, tuple[bool, str]]:
        """Item code -> (accepted, reason), as `gateway.decide_gateway` takes them."""
        return {
            code: (self[f"decision_{code}"].data == "accept", self[f"reason_{code}"].data or "") for code in self.items
        }


def _item_fields(items: tuple[str, ...]) -> dict:
    """A decision and a reason field per gateway item, named decision_<code> and reason_<code>."""
    fields = {}
    for code in items:
        title = ITEM_TITLES[code]
        choose = f"Choose whether to accept or refer back “{title}”"
        fields[f"decision_{code}"] = RadioChoiceField(
            title,
            choices=[("accept", "Accept"), ("refer", "Refer back")],
            validators=[InputRequired(choose)],
            message=choose,
        )
        fields[f"reason_{code}"] = long_text("Reason, if you refer it back", MAX_REASON, called="The reason")
    return fields


@lru_cache(maxsize=8)
def decision_form(items: tuple[str, ...]) -> type[GatewayDecisionBase]:
    """The assessor's form for a standard's gateway items (see `gateway.domain.gateway_items`).

    Built from the list of items, so that each item's fields have their own names and errors (and
    the error summary links to each)."""
    return type(
        "GatewayDecisionForm",
        (GatewayDecisionBase,),
        {
            "items": items,
            **_item_fields(items),
            "note": long_text(
                "Note for the apprentice, employer and training provider (optional)", MAX_NOTE, called="The note"
            ),
            "submit": SubmitField("Record the decision", widget=GovSubmitInput()),
        },
    )


GatewayDecisionForm = decision_form(GATEWAY_ITEMS)


class BehaviourVerificationBase(FlaskForm):
    """Confirmed or not yet for each behaviour, with a note (required for not yet), and the signature."""

    codes: tuple[str, ...] = ()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for code in self.codes:
            note = self[f"note_{code}"]
            if self[f"decision_{code}"].data == NOT_YET and not (note.data or "").strip():
                note.errors.append(
                    f"Say what is not yet shown for {code}: a note is needed when it is not yet confirmed"
                )
                valid = False
        return valid

    @property
    def decisions(self) -> dict[str, tuple[bool, str]]:
        """Behaviour code -> (confirmed, note), as `gateway.behaviours.sign_behaviour_verification` takes them."""
        return {
            code: (self[f"decision_{code}"].data == CONFIRMED, self[f"note_{code}"].data or "") for code in self.codes
        }


@lru_cache(maxsize=64)
def behaviour_verification_form(codes: tuple[str, ...]) -> type[BehaviourVerificationBase]:
    """The employer's form for the behaviours `codes`: decision_<code> and note_<code> for each."""
    fields: dict = {"codes": codes}
    for code in codes:
        choose = f"Choose Confirmed or Not yet for {code}"
        fields[f"decision_{code}"] = RadioChoiceField(
            code,
            choices=list(DECISION_LABELS.items()),
            validators=[InputRequired(choose)],
            message=choose,
        )
        fields[f"note_{code}"] = long_text(
            f"Note on {code} (needed if not yet confirmed)", MAX_NOTE, called=f"The note for {code}"
        )
    fields["confirm"] = BooleanField(
        "I confirm these decisions about the apprentice's behaviours, on behalf of their employer",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Tick the box to sign the verification")],
    )
    fields["submit"] = SubmitField("Sign the verification", widget=GovSubmitInput())
    return type("BehaviourVerificationForm", (BehaviourVerificationBase,), fields)
