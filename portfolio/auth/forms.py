from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length


def email_field(label: str = "Email address", **kwargs) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your email address"),
            Length(max=254, message="Enter a shorter email address"),
        ],
        **kwargs,
    )


class SignInForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=200, message="Enter a shorter password")],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


def new_password_field() -> PasswordField:
    return PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description="At least 10 characters, not a common password nor one made from your name or email address. "
        "A few unrelated words make a strong password.",
        validators=[InputRequired("Enter a new password")],
    )


def confirm_password_field() -> PasswordField:
    return PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Confirm your new password"), EqualTo("new_password", "The passwords do not match")],
    )


def current_password_field() -> PasswordField:
    return PasswordField(
        "Current password", widget=GovPasswordInput(), validators=[InputRequired("Enter your current password")]
    )


class ChangePasswordForm(FlaskForm):
    current_password = current_password_field()
    new_password = new_password_field()
    confirm_password = confirm_password_field()
    submit = SubmitField("Change password", widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    """Choosing a password with an emailed link: a reset, or an invitation."""

    new_password = new_password_field()
    confirm_password = confirm_password_field()
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ForgottenPasswordForm(FlaskForm):
    email = email_field(description="The address you sign in with.")
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


class ChangeEmailForm(FlaskForm):
    email = StringField(
        "New email address",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your new email address"),
            Length(max=254, message="Enter a shorter email address"),
        ],
    )
    current_password = current_password_field()
    submit = SubmitField("Send a confirmation link", widget=GovSubmitInput())
