"""Buyer groups: the engine's clusters for facilitators, the groups, and the municipalities' answers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField
from wtforms.validators import AnyOf, DataRequired, Length

from proeftuin import policy
from proeftuin.access import STAFF, allow
from proeftuin.blueprints.actions import run_action
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.fields import SingleLineField, id_value
from proeftuin.blueprints.matching_support import semantic_results
from proeftuin.enums import ChallengeStatus, Role
from proeftuin.models import BuyerGroup, Challenge
from proeftuin.services import buyer_groups as service

bp = Blueprint("buyer_groups", __name__, url_prefix="/buyer-groups")

RESPONSE_MESSAGES = {
    "join": _l("Your municipality joined the buyer group."),
    "decline": _l("Your municipality declined the invitation."),
}
BACK_PREFIXES = ("/buyer-groups/", "/challenges/")


class GroupForm(FlaskForm):
    """One cluster of the suggestions page: name it, keep or drop members, confirm or keep as proposal."""

    name = SingleLineField(_l("Name of the buyer group"), validators=[DataRequired(), Length(min=3, max=160)])
    challenge_ids = SelectMultipleField(_l("Challenges in the group"), coerce=id_value, validate_choice=False)
    action = SingleLineField(validators=[AnyOf(["confirm", "propose"])])
    cluster = HiddenField()


class ConfirmForm(FlaskForm):
    name = SingleLineField(_l("Name of the buyer group"), validators=[DataRequired(), Length(min=3, max=160)])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


def _back(default: str) -> str:
    back = request.form.get("back", "")
    if back.startswith(BACK_PREFIXES) and not back.startswith("//") and "\\" not in back:
        return back
    return default


@bp.app_template_global("buyer_group_panel")
def buyer_group_panel(challenge: Challenge) -> dict | None:
    """What the challenge page shows about buyer groups: to its owner and to staff only.

    Returns None for everyone else, so nothing of another municipality appears on their page.
    """
    if not current_user.is_authenticated:
        return None
    is_owner = policy.owns_challenge(current_user, challenge)
    if not (is_owner or policy.is_staff(current_user)):
        return None
    groupable = challenge.status in service.GROUPABLE_STATUSES
    similar, unavailable = semantic_results(
        lambda: service.similar_challenges(current_user, challenge) if groupable else [])
    return {"similar": similar, "unavailable": unavailable, "groupable": groupable, "is_owner": is_owner,
            "draft": challenge.status == ChallengeStatus.DRAFT,
            "memberships": service.memberships_of(current_user, challenge), "form": ActionForm(),
            "strong": service.STRONG_THRESHOLD}


@bp.route("/")
@allow(Role.MUNICIPALITY, *STAFF)
def index():
    groups = service.groups_for(current_user)
    is_staff = policy.is_staff(current_user)
    own = {} if is_staff else {g.id: service.own_member(current_user, g) for g in groups}
    return render_template("buyer_groups/index.html", groups=groups, is_staff=is_staff, own=own,
                           form=ActionForm())


@bp.route("/suggestions", methods=["GET", "POST"])
@allow(*STAFF)
def suggestions():
    """The engine's clusters with the reasons; each can be confirmed (and invited) or kept."""
    form = GroupForm()
    if form.validate_on_submit():
        confirm = form.action.data == "confirm"
        with domain_errors(form) as outcome:
            group = service.create(current_user, form.name.data, form.challenge_ids.data, confirm=confirm)
        if outcome.ok:
            if confirm:
                flash(ngettext("The buyer group is confirmed; %(num)d municipality is invited.",
                               "The buyer group is confirmed; %(num)d municipalities are invited.",
                               len(group.members)), "success")
            else:
                flash(_("The group is kept as a proposal; nobody is invited yet."), "success")
            return redirect(url_for("buyer_groups.detail", group_id=group.id))
    elif form.is_submitted() and not form.errors.get("name") and not form.errors.get("challenge_ids"):
        abort(400)  # a tampered action: nothing the user typed can be wrong
    clusters, unavailable = semantic_results(service.find_clusters)
    if form.errors and form.cluster.data not in {c.key for c in clusters}:
        for message in [*form.name.errors, *form.challenge_ids.errors]:
            flash(message, "error")  # the cluster changed since the page was read: say what went wrong
    return render_template("buyer_groups/suggestions.html", clusters=clusters, unavailable=unavailable, form=form,
                           submitted=form.cluster.data if form.is_submitted() else None,
                           threshold=service.THRESHOLD, strong=service.STRONG_THRESHOLD)


def _render_detail(group: BuyerGroup, confirm_form: ConfirmForm | None = None):
    own = service.own_member(current_user, group)
    return render_template(
        "buyer_groups/detail.html", group=group, is_staff=policy.is_staff(current_user), own=own,
        visible=service.visible_challenge_ids(current_user, group),
        by_id={m.challenge_id: m.challenge for m in group.members},
        confirm_form=confirm_form or ConfirmForm(name=group.name), form=ActionForm(),
        strong=service.STRONG_THRESHOLD,
    )


@bp.route("/<int:group_id>")
@allow(Role.MUNICIPALITY, *STAFF)
def detail(group_id: int):
    return _render_detail(service.get_visible(current_user, group_id))


@bp.route("/<int:group_id>/confirm", methods=["POST"])
@allow(*STAFF)
def confirm(group_id: int):
    service.get_visible(current_user, group_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            group = service.confirm(current_user, group_id, form.name.data)
        if outcome.ok:
            flash(ngettext("The buyer group is confirmed; %(num)d municipality is invited.",
                           "The buyer group is confirmed; %(num)d municipalities are invited.",
                           len(group.members)), "success")
            return redirect(url_for("buyer_groups.detail", group_id=group_id))
    group = service.get_visible(current_user, group_id)
    return _render_detail(group, form)


def _respond(group_id: int, decision: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        service.respond(current_user, group_id, decision)
    if outcome.ok:
        flash(str(RESPONSE_MESSAGES[decision]), "success")
    return redirect(_back(url_for("buyer_groups.detail", group_id=group_id)))


@bp.route("/<int:group_id>/join", methods=["POST"])
@allow(Role.MUNICIPALITY)
def join(group_id: int):
    """The user's municipality joins the group with its challenge."""
    return _respond(group_id, "join")


@bp.route("/<int:group_id>/decline", methods=["POST"])
@allow(Role.MUNICIPALITY)
def decline(group_id: int):
    """The user's municipality declines (or leaves) the group."""
    return _respond(group_id, "decline")


@bp.route("/<int:group_id>/close", methods=["POST"])
@allow(*STAFF)
def close(group_id: int):
    return run_action(ActionForm(), lambda: service.close(current_user, group_id),
                      _("The buyer group is closed."), url_for("buyer_groups.detail", group_id=group_id))
