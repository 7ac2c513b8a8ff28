"""The organisation as a team: members and roles, invitations, join requests (issue 10).

Who may is decided by `proeftuin.services.teams` (members see the page, admins act); the routes
declare the account kinds that can have an organisation. `viewers_change_nothing` refuses every
state-changing request of a read-only colleague on a route meant for an organisation's accounts,
so a viewer cannot change anything even where a service forgot to ask.
"""
from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from proeftuin.access import ANYONE, SIGNED_IN, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.organisation_forms import AcceptForm, ConfirmForm, DecisionForm, InviteForm, RoleForm
from proeftuin.enums import OrgRole, Role
from proeftuin.policy import is_staff
from proeftuin.services import teams

logger = logging.getLogger(__name__)

bp = Blueprint("organisation", __name__, url_prefix="/organisation")

ORG_ACCOUNTS = (Role.MUNICIPALITY, Role.STARTUP)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@bp.before_app_request
def viewers_change_nothing() -> None:
    """A viewer's POST to a route of organisation accounts is refused (403) before the view runs.

    Routes open to every signed-in user (their own account, language, notifications, leaving the
    organisation) stay open: they change the person's own things, not the organisation's.
    """
    if request.method in SAFE_METHODS or not current_user.is_authenticated:
        return
    if getattr(current_user, "org_role", None) != OrgRole.VIEWER or current_user.organisation_id is None:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    access = getattr(view, "access", frozenset())
    if access and not access & {ANYONE, SIGNED_IN}:
        logger.warning("authz.viewer_write user=%s route=%s", current_user.id, request.endpoint)
        abort(403)


def _back():
    return redirect(url_for("organisation.index"))


@bp.route("/")
@allow(SIGNED_IN)
def index():
    if is_staff(current_user):
        abort(404)
    if current_user.organisation_id is None:
        return render_template("organisation/none.html", join_request=teams.my_join_request(current_user))
    page = teams.team_page(current_user)
    return render_template("organisation/index.html", page=page, invite_form=InviteForm(), role_form=RoleForm,
                           confirm=ConfirmForm(), decision=DecisionForm())


@bp.route("/invitations", methods=["POST"])
@allow(*ORG_ACCOUNTS)
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            issued = teams.invite(current_user, form.email.data, OrgRole(form.role.data))
        if outcome.ok:
            flash(_("The invitation is sent to %(email)s.", email=issued.invitation.email), "success")
            return _back()
    elif not form.is_submitted():
        return _back()
    # Show the page again with what was typed and the message on the field.
    page = teams.team_page(current_user)
    return render_template("organisation/index.html", page=page, invite_form=form, role_form=RoleForm,
                           confirm=ConfirmForm(), decision=DecisionForm()), 400


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@allow(*ORG_ACCOUNTS)
def resend(invitation_id: int):
    _confirmed()
    with domain_errors() as outcome:
        issued = teams.resend(current_user, invitation_id)
    if outcome.ok:
        flash(_("The invitation is sent again to %(email)s; the earlier link no longer works.",
                email=issued.invitation.email), "success")
    return _back()


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@allow(*ORG_ACCOUNTS)
def revoke(invitation_id: int):
    _confirmed()
    with domain_errors() as outcome:
        invitation = teams.revoke(current_user, invitation_id)
    if outcome.ok:
        flash(_("The invitation of %(email)s is revoked.", email=invitation.email), "success")
    return _back()


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@allow(ANYONE)
def invitation(token: str):
    found = teams.invitation_for_token(token)
    if found is None:
        flash(_("This invitation link is invalid, has expired or was already used."), "error")
        return redirect(url_for("main.index"))
    if current_user.is_authenticated:
        form = ConfirmForm()
        if form.validate_on_submit():
            with domain_errors() as outcome:
                teams.accept_as_existing(current_user, token)
            if outcome.ok:
                flash(_("Welcome to %(organisation)s.", organisation=found.organisation.name), "success")
                return _back()
        return render_template("organisation/join.html", invitation=found, form=form)
    form = AcceptForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            teams.accept_as_new(token, form.name.data, form.password.data, locale=str(get_locale()))
        if outcome.ok:
            flash(_("Your account is ready. Log in to continue."), "success")
            return redirect(url_for("auth.login", next=url_for("organisation.index")))
    return render_template("organisation/accept.html", invitation=found, form=form,
                           has_account=teams.address_has_account(found.email))


@bp.route("/members/<int:member_id>/role", methods=["POST"])
@allow(*ORG_ACCOUNTS)
def change_role(member_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a role."), "error")
        return _back()
    with domain_errors() as outcome:
        member = teams.change_role(current_user, member_id, OrgRole(form.role.data))
    if outcome.ok:
        flash(_("%(name)s is now %(role)s.", name=member.name, role=member.org_role.label), "success")
    return _back()


@bp.route("/members/<int:member_id>/remove", methods=["POST"])
@allow(*ORG_ACCOUNTS)
def remove(member_id: int):
    _confirmed()
    with domain_errors() as outcome:
        member = teams.remove_member(current_user, member_id)
    if outcome.ok:
        flash(_("%(name)s is removed from the organisation and logged out.", name=member.name), "success")
    return _back()


@bp.route("/leave", methods=["POST"])
@allow(SIGNED_IN)
def leave():
    _confirmed()
    with domain_errors() as outcome:
        org = teams.leave(current_user)
    if not outcome.ok:
        return _back()
    logout_user()
    session.clear()
    flash(_("You left %(organisation)s and are logged out.", organisation=org.name), "info")
    return redirect(url_for("auth.login"))


@bp.route("/join-requests/<int:request_id>/decision", methods=["POST"])
@allow(*ORG_ACCOUNTS)
def decide(request_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    approve = form.decision.data == "approve"
    with domain_errors() as outcome:
        teams.decide_join_request(current_user, request_id, approve)
    if outcome.ok:
        flash(_("The request is approved.") if approve else _("The request is refused."), "success")
    return _back()
