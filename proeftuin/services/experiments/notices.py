"""Who hears of what happens to an experiment: the notification texts (in-app and mail), how an
actor is named to the others ("name (organisation)", the support point for staff), and the two
fan-outs: every other party and the facilitator who opened it (`_tell_others`), or whoever sent
an invitation (`_tell_inviter`).
"""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from proeftuin.extensions import db
from proeftuin.models import Experiment, User
from proeftuin.models.experiment import Participation
from proeftuin.policy import is_staff
from proeftuin.services import notify

CREATED_TEXT = _l("%(actor)s opened the experiment \u201c%(experiment)s\u201d with your organisation.")
CREATED_SUBJECT = _l("New experiment: %(experiment)s")
STATUS_TEXT = _l("The experiment \u201c%(experiment)s\u201d is now: %(status)s.")
STATUS_SUBJECT = _l("Experiment %(experiment)s: %(status)s")
DECISION_TEXT = _l("Decision on the experiment \u201c%(experiment)s\u201d: %(decision)s.")
DECISION_SUBJECT = _l("Decision on %(experiment)s: %(decision)s")
AWARD_TEXT = _l("Follow-up procurement of \u201c%(experiment)s\u201d: %(awarded)s.")
AWARD_SUBJECT = _l("Follow-up procurement of %(experiment)s")
INVITED_TEXT = _l("%(actor)s invites %(organisation)s to take part in the experiment \u201c%(experiment)s\u201d. "
                  "Open the invitation to accept or decline it.")
INVITED_SUBJECT = _l("Invitation to the experiment %(experiment)s")
ACCEPTED_TEXT = _l("%(organisation)s accepted the invitation to the experiment \u201c%(experiment)s\u201d.")
ACCEPTED_SUBJECT = _l("%(organisation)s takes part in %(experiment)s")
DECLINED_TEXT = _l("%(organisation)s declined the invitation to the experiment \u201c%(experiment)s\u201d.")
DECLINED_SUBJECT = _l("%(organisation)s declined the invitation to %(experiment)s")


def _organisation_label(user: User) -> str | None:
    if is_staff(user):
        return str(_l("Support point"))
    return user.organisation.name if user.organisation else None


def _actor_name(user: User) -> str:
    organisation = _organisation_label(user)
    return f"{user.name} ({organisation})" if organisation else user.name


def _tell_others(actor: User, experiment: Experiment, kind: str, text, subject,
                 values: Callable[[], dict]) -> int:
    """Notify the members of every participating organisation except the actor's own, and the
    facilitator who opened the experiment (unless they are the actor)."""
    recipients: dict[int, User] = {}
    for organisation in [*experiment.municipalities, *experiment.startups]:
        if organisation.id == actor.organisation_id:
            continue
        for member in notify.members(organisation):
            recipients[member.id] = member
    if experiment.created_by_id and experiment.created_by_id != actor.id:
        creator = db.session.get(User, experiment.created_by_id)
        if creator is not None and is_staff(creator) and creator.active:
            recipients[creator.id] = creator
    recipients.pop(actor.id, None)
    link = f"/experiments/{experiment.id}"
    return notify.notify_users(list(recipients.values()), kind, text, link,
                               lambda: {"experiment": experiment.title, **values()}, subject, text)


def _tell_inviter(actor: User, experiment: Experiment, row: Participation, kind: str, text, subject) -> int:
    """Notify whoever sent the invitation (or, when they are gone, the facilitator who opened it)."""
    recipient = db.session.get(User, row.invited_by_id) if row.invited_by_id else None
    if recipient is None and experiment.created_by_id:
        recipient = db.session.get(User, experiment.created_by_id)
    if recipient is None or recipient.id == actor.id:
        return 0
    return notify.notify_users([recipient], kind, text, f"/experiments/{experiment.id}",
                               lambda: {"organisation": row.organisation.name, "experiment": experiment.title},
                               subject, text)
