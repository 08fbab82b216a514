"""Running a domain action from a view: commit and flash, or roll back and show the error."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import Form, StringField, SubmitField

from portfolio.core.domain import DomainError
from portfolio.core.web import attempt, criteria_error
from portfolio.extensions import db
from portfolio.models import Organisation, OrganisationKind


class NameForm(Form):
    name = StringField()
    submit = SubmitField()


def _add(name: str, error: DomainError | None = None) -> Organisation:
    """An organisation added in the request's transaction, then `error` raised if given."""
    organisation = Organisation(name=name, kind=OrganisationKind.EMPLOYER)
    db.session.add(organisation)
    db.session.flush()
    if error is not None:
        raise error
    return organisation


def _stored(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == name))


@pytest.fixture
def request_context(app):
    with app.test_request_context(method="POST"):
        yield


def test_success_commits_flashes_and_returns_the_result(request_context):
    done = attempt(lambda: _add("Acme"), lambda organisation: f"Created {organisation.name}")
    assert isinstance(done, Organisation)
    db.session.rollback()  # nothing left to undo: it was committed
    assert _stored("Acme") == 1
    assert get_flashed_messages(with_categories=True) == [("success", "Created Acme")]


def test_an_action_returning_nothing_gives_true(request_context):
    assert attempt(lambda: None) is True
    assert get_flashed_messages() == []


def test_an_error_rolls_back_and_lands_on_its_field(request_context):
    form = NameForm()
    refused = attempt(lambda: _add("Acme", DomainError("Choose another name", "name")), "Created", form=form)
    assert not refused
    assert not refused.flashed
    assert refused.error.message == "Choose another name"
    assert form.name.errors == ["Choose another name"]
    assert _stored("Acme") == 0
    assert get_flashed_messages() == []


def test_an_error_naming_no_field_is_flashed(request_context):
    form = NameForm()
    refused = attempt(lambda: _add("Acme", DomainError("You cannot do this")), "Created", form=form)
    assert not refused and refused.flashed
    assert _stored("Acme") == 0
    assert form.errors == {}
    assert get_flashed_messages(with_categories=True) == [("error", "You cannot do this")]


def test_without_a_form_the_error_is_flashed(request_context):
    refused = attempt(lambda: _add("Acme", DomainError("Gone", "name")))
    assert not refused and refused.flashed
    assert get_flashed_messages(with_categories=True) == [("error", "Gone")]


def test_default_and_aliases_choose_the_field(request_context):
    form = NameForm()
    attempt(lambda: _add("A", DomainError("On the button", "nonsense")), form=form, default="submit")
    attempt(lambda: _add("B", DomainError("On the name", "title")), form=form, aliases={"title": "name"})
    assert form.submit.errors == ["On the button"]
    assert form.name.errors == ["On the name"]


def test_keep_on_error_commits_what_the_action_did(request_context):
    attempt(lambda: _add("Acme", DomainError("Counted even so", "name")), form=NameForm(), keep_on_error=True)
    db.session.rollback()
    assert _stored("Acme") == 1


def test_quiet_shows_nothing(request_context):
    form = NameForm()
    refused = attempt(lambda: _add("Acme", DomainError("For the view", "name")), form=form, quiet=True)
    assert not refused and not refused.flashed
    assert refused.error.message == "For the view"
    assert form.errors == {} and get_flashed_messages() == []


def test_a_part_hook_takes_an_error_for_one_criterion(request_context):
    class CriteriaForm(Form):
        title = StringField()
        criteria = StringField()

    form = CriteriaForm()
    form.criteria.code_errors = {}
    attempt(lambda: _add("A", DomainError("Explain K1", "justification_K1")), form=form, part=criteria_error)
    attempt(lambda: _add("B", DomainError("Link a criterion", "links")), form=form, part=criteria_error)
    attempt(lambda: _add("C", DomainError("Give a title")), form=form, default="title", part=criteria_error)
    assert form.criteria.code_errors == {"K1": "Explain K1"}
    assert form.criteria.errors == ["Explain K1", "Link a criterion"]
    assert form.title.errors == ["Give a title"]
