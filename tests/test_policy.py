"""One answer to "who may" (proeftuin.policy) and to "the service refused" (blueprints.errors)."""
from __future__ import annotations

import pytest
from flask import session
from flask_login import AnonymousUserMixin
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound as HTTPNotFound
from wtforms import StringField

from proeftuin import policy
from proeftuin.blueprints.errors import domain_errors
from proeftuin.enums import OrgKind, Role
from proeftuin.extensions import db
from proeftuin.services import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import make_challenge, make_org, make_user


def test_is_staff_only_for_active_facilitators_and_admins(app):
    with app.app_context():
        muni = make_org(OrgKind.MUNICIPALITY, "Gent", nis="44021")
        facilitator = make_user("f@example.org", Role.FACILITATOR)
        admin = make_user("a@example.org", Role.ADMIN)
        member = make_user("m@example.org", Role.MUNICIPALITY, muni)
        gone = make_user("gone@example.org", Role.FACILITATOR)
        gone.active = False
        assert policy.is_staff(facilitator) and policy.is_staff(admin)
        assert not policy.is_staff(member)
        assert not policy.is_staff(gone)
        assert not policy.is_staff(None)
        assert not policy.is_staff(AnonymousUserMixin())


def test_owns_challenge_needs_the_same_municipality(app):
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", nis="44021")
        aalst = make_org(OrgKind.MUNICIPALITY, "Aalst", nis="41002")
        challenge = make_challenge(gent, "Parkeren")
        assert policy.owns_challenge(make_user("g@example.org", Role.MUNICIPALITY, gent), challenge)
        assert not policy.owns_challenge(make_user("a@example.org", Role.MUNICIPALITY, aalst), challenge)
        assert not policy.owns_challenge(make_user("f@example.org", Role.FACILITATOR), challenge)
        assert not policy.owns_challenge(make_user("x@example.org", Role.MUNICIPALITY), challenge)
        assert not policy.owns_challenge(None, challenge)


class NameForm(FlaskForm):
    name = StringField()


def test_field_error_goes_on_the_form_other_errors_are_flashed(app):
    with app.test_request_context(method="POST", data={"name": "typed"}):
        form = NameForm()
        with domain_errors(form) as outcome:
            raise InvalidInput("Taken.", "name")
        assert outcome.failed and outcome.on_form
        assert form.name.errors == ["Taken."] and form.name.data == "typed"
        with domain_errors(form) as outcome:
            raise Conflict("Already done.")
        assert outcome.failed and not outcome.on_form
        assert session["_flashes"] == [("error", "Already done.")]
        with domain_errors(form, quiet=(Conflict,)) as outcome:
            raise Conflict("Left to the view.")
        assert isinstance(outcome.error, Conflict) and len(session["_flashes"]) == 1
        with domain_errors(form) as outcome:
            pass
        assert outcome.ok


def test_refusals_become_the_error_page_after_a_rollback(app):
    with app.test_request_context():
        muni = make_org(OrgKind.MUNICIPALITY, "Gent", nis="44021")
        with pytest.raises(HTTPNotFound) as caught, domain_errors():
            raise NotFound("not yours")
        assert caught.value.description != "not yours"
        assert muni not in db.session  # the pending change was rolled back
        with pytest.raises(Forbidden), domain_errors():
            raise Forbidden("Not verified yet.")


def test_escaped_not_found_says_nothing(app, client):
    @app.route("/_probe")
    def probe():
        raise NotFound("secret detail")

    probe.access = frozenset({"anyone"})
    response = client.get("/_probe")
    assert response.status_code == 404 and b"secret detail" not in response.data
