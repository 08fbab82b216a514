"""The notification settings form: one choice of delivery per kind the person can receive."""

from __future__ import annotations

from flask_wtf import FlaskForm

from ..core.forms import RadioChoiceField, submit_button
from ..models.notifications import Delivery
from .kinds import Kind


def settings_form(kinds: list[Kind], current: dict[Kind, Delivery], formdata=None) -> FlaskForm:
    """A form with a radio group per kind, named by the kind's value, set to `current`."""

    class SettingsForm(FlaskForm):
        submit = submit_button("Save settings")

    for kind in kinds:
        field = RadioChoiceField(
            kind.label,
            message=f"Choose how you hear about {kind.label.lower()}",
            choices=[(delivery.value, delivery.label) for delivery in Delivery],
            coerce=Delivery,
        )
        setattr(SettingsForm, kind.value, field)
    form = SettingsForm(formdata=formdata, data={kind.value: current[kind] for kind in kinds})
    return form


class MarkReadForm(FlaskForm):
    submit = submit_button("Mark all as read")
