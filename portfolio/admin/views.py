"""Administration: organisations, users, enrolments and standards of the whole installation.

Every view is for administrators only (anyone else gets 404). Views parse the form, call one
domain function, commit and redirect; a DomainError goes back to the form field it names.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from standard import StandardError

from ..accounts.domain import create_organisation, create_user, rename_organisation, reset_password, set_active
from ..auth.invitations import invite_new_user, latest_invitation, send_invitation
from ..core import security
from ..core.access import admin_required
from ..core.listing import choice_arg, id_arg, paginate, search_text
from ..core.rules import duration_exceptions
from ..core.web import attempt
from ..core.wording import long_date
from ..enrolments.breaks import end_break, start_break
from ..enrolments.domain import (
    TERM_PARTIES,
    TERM_VALUES,
    EnrolmentTerms,
    apprentices_free_to_enrol,
    change_status_by_hand,
    english_and_maths_routes,
    enrol,
    status_changes_by_hand,
    update_terms,
)
from ..enrolments.standard_versions import store_standard_upload
from ..extensions import db
from ..models import (
    Enrolment,
    EnrolmentStatus,
    Organisation,
    OrganisationKind,
    Role,
    StandardVersion,
    User,
)
from ..models.types import utcnow
from .forms import (
    MAXIMUM_STANDARD_CHARACTERS,
    ActionForm,
    BreakForm,
    EnrolmentForm,
    EnrolmentTermsForm,
    OrganisationForm,
    RenameOrganisationForm,
    ResetPasswordForm,
    ReturnForm,
    StandardForm,
    StatusForm,
    UserForm,
)
from .queries import (
    assignable_staff,
    counts_by,
    enrolment_with_page,
    enrolments_listed,
    enrolments_of_apprentice,
    enrolments_pinned_to,
    organisations_by_name,
    organisations_matching,
    providers_and_epaos,
    standard_version_count,
    standard_versions_listed,
    standard_versions_to_choose,
    user_count,
    user_counts,
    users_matching,
)

bp = Blueprint("admin", __name__, template_folder="templates")


def _attempt(action, success, form, **placement):
    """`attempt` as every admin form has it: an error naming no field of the form goes on its button."""
    return attempt(action, success, form=form, default="submit", **placement)


@bp.route("/")
@admin_required
def index():
    return render_template(
        "admin/index.html",
        organisations=counts_by(db.session, Organisation.kind),
        users=counts_by(db.session, User.role),
        enrolments=counts_by(db.session, Enrolment.status),
        standards=standard_version_count(db.session),
        kinds=list(OrganisationKind),
        roles=list(Role),
        statuses=list(EnrolmentStatus),
    )


# Organisations


@bp.route("/organisations")
@admin_required
def organisations():
    query, kind = search_text(), choice_arg("kind", OrganisationKind)
    page = paginate(organisations_matching(query, kind))
    return render_template(
        "admin/organisations.html",
        page=page,
        query=query,
        kind=kind,
        kinds=list(OrganisationKind),
        user_counts=user_counts(db.session, [organisation.id for organisation in page.items]),
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@admin_required
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        organisation = _attempt(
            lambda: create_organisation(db.session, form.name.data, form.kind.data, by=current_user),
            lambda organisation: f"Organisation created: {organisation.name}",
            form,
        )
        if organisation:
            return redirect(url_for("admin.organisations", kind=organisation.kind.value))
    return render_template("admin/organisation_new.html", form=form)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@admin_required
def organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = RenameOrganisationForm(obj=organisation)
    if form.validate_on_submit() and _attempt(
        lambda: rename_organisation(db.session, organisation, form.name.data, by=current_user),
        lambda _: f"Organisation renamed: {organisation.name}",
        form,
    ):
        return redirect(url_for("admin.organisations", kind=organisation.kind.value))
    return render_template(
        "admin/organisation.html",
        organisation=organisation,
        form=form,
        user_count=user_count(db.session, organisation.id),
    )


# Users


@bp.route("/users")
@admin_required
def users():
    query, role = search_text(), choice_arg("role", Role)
    organisation_id = id_arg("organisation")
    page = paginate(users_matching(query, role, organisation_id))
    organisation = db.session.get(Organisation, organisation_id) if organisation_id is not None else None
    return render_template(
        "admin/users.html", page=page, query=query, role=role, roles=list(Role), organisation=organisation
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = UserForm()
    organisations = {o.id: o for o in organisations_by_name(db.session)}
    form.organisation.choices = [("", "Choose an organisation")] + [
        (o.id, f"{o.name} ({o.kind.label.lower()})") for o in organisations.values()
    ]
    if form.validate_on_submit():
        details = dict(
            email=form.email.data,
            name=form.name.data,
            role=form.role.data,
            organisation=organisations[form.organisation.data],
            by=current_user,
        )
        inviting = form.first_password.data == UserForm.INVITE
        user = _attempt(
            lambda: (
                invite_new_user(db.session, **details)
                if inviting
                else create_user(db.session, password=form.password.data, **details)
            ),
            lambda user: (
                f"User created: {user.name}" + (f". We have emailed an invitation to {user.email}" if inviting else "")
            ),
            form,
        )
        if user:
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


def _render_user(user: User, action_form: ActionForm | None = None):
    return render_template(
        "admin/user.html",
        user=user,
        form=action_form or ActionForm(),
        enrolments=enrolments_of_apprentice(db.session, user.id),
        invitation=latest_invitation(db.session, user),
        now=utcnow(),
    )


@bp.route("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    return _render_user(db.get_or_404(User, user_id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate_user(user_id: int):
    return _set_active(db.get_or_404(User, user_id), False)


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate_user(user_id: int):
    return _set_active(db.get_or_404(User, user_id), True)


def _set_active(user: User, active: bool):
    form = ActionForm()
    if form.validate_on_submit() and _attempt(
        lambda: set_active(user, active, by=current_user),
        lambda _: f"Account {'reactivated' if active else 'deactivated'}: {user.name}",
        form,
    ):
        return redirect(url_for("admin.user", user_id=user.id))
    return _render_user(user, form)


@bp.post("/users/<int:user_id>/invitation")
@admin_required
def resend_invitation(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ActionForm()
    if form.validate_on_submit() and _attempt(
        lambda: send_invitation(user, by=current_user),
        lambda _: f"We have emailed a new invitation to {user.email}. The earlier one no longer works.",
        form,
    ):
        return redirect(url_for("admin.user", user_id=user.id))
    return _render_user(user, form)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def reset_user_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():

        def reset() -> None:
            reset_password(user, form.password.data, by=current_user)
            if user.id == current_user.id:
                security.start_session(user)  # every session of the account ended: this one carries on

        if _attempt(reset, lambda _: f"Password reset: {user.name}", form):
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_password.html", user=user, form=form)


# Enrolments


@bp.route("/enrolments")
@admin_required
def enrolments():
    query, status = search_text(), choice_arg("status", EnrolmentStatus)
    page = paginate(enrolments_listed(query, status))
    return render_template(
        "admin/enrolments.html", page=page, query=query, status=status, statuses=list(EnrolmentStatus)
    )


class EnrolmentChoices:
    """What the enrolment form offers, fetched in a fixed number of queries and kept by id."""

    def __init__(self, enrolment: Enrolment | None = None) -> None:
        session = db.session
        organisations = providers_and_epaos(session)
        self.providers = {o.id: o for o in organisations if o.kind is OrganisationKind.PROVIDER}
        self.epaos = {o.id: o for o in organisations if o.kind is OrganisationKind.EPAO}
        people = assignable_staff(session, enrolment)
        self.tutors = {u.id: u for u in people if u.role is Role.TUTOR}
        self.mentors = {u.id: u for u in people if u.role is Role.EMPLOYER}
        if enrolment is None:
            self.apprentices = {u.id: u for u in apprentices_free_to_enrol(session)}
            self.versions = {v.id: v for v in standard_versions_to_choose(session)}
            # The version is chosen on the same form: offer every route of every version; enrol() checks.
            self.routes: dict[str, str] = {}
            for version in self.versions.values():
                for code, label in english_and_maths_routes(version).items():
                    self.routes.setdefault(code, label)
        else:
            self.routes = english_and_maths_routes(enrolment.standard_version)

    def fill(self, form: EnrolmentForm) -> None:
        if form.apprentice is not None:
            form.apprentice.choices = [("", "Choose an apprentice")] + [
                (u.id, f"{u.name} ({u.email}), {u.organisation.name}") for u in self.apprentices.values()
            ]
            form.standard_version.choices = [("", "Choose a standard")] + [
                (v.id, f"{v.label} (content {v.short_hash})") for v in self.versions.values()
            ]
        form.provider.choices = [("", "Choose a training provider")] + [(o.id, o.name) for o in self.providers.values()]
        form.epao.choices = [("", "Not chosen yet")] + [(o.id, o.name) for o in self.epaos.values()]
        form.tutor.choices = [("", "Not assigned")] + [
            (u.id, f"{u.name}, {u.organisation.name}") for u in self.tutors.values()
        ]
        form.mentor.choices = [("", "Not assigned")] + [
            (u.id, f"{u.name}, {u.organisation.name}") for u in self.mentors.values()
        ]
        form.english_maths_route.choices = list(self.routes.items())
        form.duration_exception.choices = [("", "None: the planned duration meets the minimum")] + [
            (e.code, e.label) for e in duration_exceptions()
        ]

    def terms(self, form: EnrolmentForm) -> EnrolmentTerms:
        return EnrolmentTerms(
            provider=self.providers[form.provider.data],
            epao=self.epaos.get(form.epao.data),
            mentor=self.mentors.get(form.mentor.data),
            tutor=self.tutors.get(form.tutor.data),
            start_date=form.start_date.data,
            planned_end_date=form.planned_end_date.data,
            planned_otj_hours=form.planned_otj_hours.data,
            age_band=form.age_band.data,
            english_maths_route=form.english_maths_route.data,
            english_maths_decided_on=form.english_maths_decided_on.data,
            english_maths_agreed_by=form.english_maths_agreed_by.data or "",
            minimum_months_override=form.minimum_months_override.data,
            contracted_weekly_hours=form.contracted_weekly_hours.data,
            prior_learning_otj_hours=form.prior_learning_otj_hours.data or 0,
            duration_exception=form.duration_exception.data or None,
        )


@bp.route("/enrolments/new", methods=["GET", "POST"])
@admin_required
def new_enrolment():
    form = EnrolmentForm()
    choices = EnrolmentChoices()
    choices.fill(form)
    if form.validate_on_submit():
        apprentice = choices.apprentices[form.apprentice.data]
        enrolment = _attempt(
            lambda: enrol(
                db.session,
                apprentice=apprentice,
                standard_version=choices.versions[form.standard_version.data],
                employer=apprentice.organisation,
                terms=choices.terms(form),
                by=current_user,
            ),
            lambda _: f"Enrolment created: {apprentice.name}",
            form,
            aliases={"employer": "apprentice"},
        )
        if enrolment:
            return redirect(url_for("admin.enrolment", enrolment_id=enrolment.id))
    return render_template("admin/enrolment_form.html", form=form, enrolment=None)


def _get_enrolment_or_404(enrolment_id: int) -> Enrolment:
    return db.one_or_404(enrolment_with_page(enrolment_id))


def _status_form(enrolment: Enrolment) -> StatusForm:
    form = StatusForm()
    choices = [(s.value, s.label) for s in status_changes_by_hand(enrolment.status)]
    form.status.choices = [("", "Choose a status"), *choices]
    return form


@bp.route("/enrolments/<int:enrolment_id>")
@admin_required
def enrolment(enrolment_id: int):
    return _enrolment_page(_get_enrolment_or_404(enrolment_id))


def _enrolment_page(enrolment: Enrolment, **forms) -> str:
    """The enrolment's page, with a form (of `forms`) showing its errors, the others blank."""
    blank = {
        "form": _status_form(enrolment),
        "break_form": BreakForm(prefix="break"),
        "return_form": ReturnForm(prefix="return"),
    }
    sent = next((form for form in forms.values() if form.errors), None)
    return render_template("admin/enrolment.html", enrolment=enrolment, summary_form=sent, **(blank | forms))


def _terms_data(enrolment: Enrolment) -> dict:
    """The enrolment's terms as the form's initial values."""
    data = {name: getattr(enrolment, name) for name in TERM_VALUES}
    return data | {name: getattr(enrolment, f"{name}_id") for name in TERM_PARTIES}


@bp.route("/enrolments/<int:enrolment_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_enrolment(enrolment_id: int):
    enrolment = _get_enrolment_or_404(enrolment_id)
    form = EnrolmentTermsForm(data=_terms_data(enrolment) if request.method == "GET" else None)
    choices = EnrolmentChoices(enrolment)
    choices.fill(form)
    if form.validate_on_submit():
        if _attempt(lambda: update_terms(enrolment, choices.terms(form), by=current_user), "Enrolment updated", form):
            return redirect(url_for("admin.enrolment", enrolment_id=enrolment.id))
        enrolment = _get_enrolment_or_404(enrolment_id)  # reloaded after the rollback
    return render_template("admin/enrolment_form.html", form=form, enrolment=enrolment)


@bp.post("/enrolments/<int:enrolment_id>/status")
@admin_required
def change_enrolment_status(enrolment_id: int):
    enrolment = _get_enrolment_or_404(enrolment_id)
    form = _status_form(enrolment)
    if form.validate_on_submit():
        if _attempt(
            lambda: change_status_by_hand(db.session, enrolment, form.status.data, current_user, form.note.data or ""),
            lambda _: f"Status changed to {enrolment.status.label.lower()}",
            form,
        ):
            return redirect(url_for("admin.enrolment", enrolment_id=enrolment.id))
        enrolment = _get_enrolment_or_404(enrolment_id)  # reloaded after the rollback
    return _enrolment_page(enrolment, form=form)


@bp.post("/enrolments/<int:enrolment_id>/break")
@admin_required
def start_learning_break(enrolment_id: int):
    enrolment = _get_enrolment_or_404(enrolment_id)
    form = BreakForm(prefix="break")
    if form.validate_on_submit():
        if _attempt(
            lambda: start_break(
                db.session, enrolment, by=current_user, starts_on=form.starts_on.data,
                expected_return_on=form.expected_return_on.data, reason=form.reason.data or "",
            ),
            "Break in learning recorded: no evidence or off-the-job hours until the return",
            form,
        ):  # fmt: skip
            return redirect(url_for("admin.enrolment", enrolment_id=enrolment.id))
        enrolment = _get_enrolment_or_404(enrolment_id)  # reloaded after the rollback
    return _enrolment_page(enrolment, break_form=form)


@bp.post("/enrolments/<int:enrolment_id>/return")
@admin_required
def end_learning_break(enrolment_id: int):
    enrolment = _get_enrolment_or_404(enrolment_id)
    form = ReturnForm(prefix="return")
    if form.validate_on_submit():
        if _attempt(
            lambda: end_break(db.session, enrolment, by=current_user, returned_on=form.returned_on.data),
            lambda back: f"Return recorded: the planned end moves to {long_date(back.planned_end_after)}",
            form,
        ):
            return redirect(url_for("admin.enrolment", enrolment_id=enrolment.id))
        enrolment = _get_enrolment_or_404(enrolment_id)
    return _enrolment_page(enrolment, return_form=form)


# Standards


@bp.route("/standards")
@admin_required
def standards():
    versions = standard_versions_listed(db.session)
    pinned = counts_by(db.session, Enrolment.standard_version_id)
    return render_template("admin/standards.html", versions=versions, pinned=pinned)


@bp.route("/standards/new", methods=["GET", "POST"])
@admin_required
def new_standard():
    form = StandardForm()
    if form.validate_on_submit():
        try:
            version, new = store_standard_upload(db.session, form.source, by=current_user)
        except StandardError as error:
            db.session.rollback()
            field = form.yaml_text if form.yaml_file.data is None or _keep_file_text(form) else form.yaml_file
            field.errors.extend(f"{p.line}:{p.column}: {p.message}" if p.line else p.message for p in error.problems)
        else:
            db.session.commit()
            if new:
                flash(f"Standard loaded: {version.label}", "success")
            else:
                flash(f"{version.label} is already loaded (content {version.short_hash}); nothing has changed", "info")
            return redirect(url_for("admin.standard", version_id=version.id))
    # The page lists every problem in its error summary, so the form is not passed as `form`.
    return render_template("admin/standard_new.html", load_form=form)


def _keep_file_text(form: StandardForm) -> bool:
    """Put an uploaded file's YAML in the paste box, so that a failed load does not lose it: the
    problems' lines are then those of the box, to correct there. False if it was pasted, or cannot be."""
    if not isinstance(form.source, bytes):
        return False
    try:
        text = form.source.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if len(text) > MAXIMUM_STANDARD_CHARACTERS:
        return False
    form.yaml_text.data = text
    form.yaml_file.errors.append("The file's YAML is in the box below: correct it there and load it again.")
    return True


@bp.route("/standards/<int:version_id>")
@admin_required
def standard(version_id: int):
    version = db.get_or_404(StandardVersion, version_id)
    pinned = enrolments_pinned_to(db.session, version.id)
    return render_template("admin/standard.html", version=version, standard=version.standard, pinned=pinned)
