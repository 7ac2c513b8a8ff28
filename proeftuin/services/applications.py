"""Applications: a start-up's proposal for a challenge, and the municipality's decision."""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from proeftuin.enums import ApplicationStatus, Role
from proeftuin.extensions import db
from proeftuin.models import Application, Challenge, User
from proeftuin.policy import can_act_for_org, is_staff, may_change_challenge, owns_challenge
from proeftuin.services import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, audit, notify
from proeftuin.services import challenges as challenge_service

DECISIONS: dict[str, tuple[set[ApplicationStatus], ApplicationStatus]] = {
    "shortlist": ({ApplicationStatus.SUBMITTED}, ApplicationStatus.SHORTLISTED),
    "reject": ({ApplicationStatus.SUBMITTED, ApplicationStatus.SHORTLISTED}, ApplicationStatus.REJECTED),
    "select": ({ApplicationStatus.SUBMITTED, ApplicationStatus.SHORTLISTED}, ApplicationStatus.SELECTED),
}
WITHDRAWABLE = {ApplicationStatus.SUBMITTED, ApplicationStatus.SHORTLISTED}
EDITABLE = {ApplicationStatus.SUBMITTED}


def can_view(user: User | None, application: Application) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if is_staff(user):
        return True
    if user.role == Role.STARTUP:
        return user.organisation_id == application.organisation_id
    if user.role == Role.MUNICIPALITY:
        return user.organisation_id == application.challenge.organisation_id
    return False


def get_visible(user: User, application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or not can_view(user, application):
        raise NotFound()
    return application


def _get_own(user: User, application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if (
        application is None
        or user.role != Role.STARTUP
        or application.organisation_id != user.organisation_id
    ):
        raise NotFound()
    return application


def existing_for(user: User, challenge_id: int) -> Application | None:
    if user.role != Role.STARTUP:
        return None
    return db.session.scalar(
        sa.select(Application).where(
            Application.challenge_id == challenge_id,
            Application.organisation_id == user.organisation_id,
        )
    )


def _check_proposal(proposal: str) -> str:
    proposal = proposal.strip()
    if len(proposal) < 50:
        raise InvalidInput(str(_l("Describe your proposal in at least 50 characters.")), "proposal")
    return proposal


def apply(user: User, challenge_id: int, proposal: str, today: date | None = None) -> Application:
    """Submit the start-up's one application to an open challenge.

    Raises:
        NotFound: the challenge is not visible to the user.
        InvalidTransition: the challenge is not open or its deadline has passed.
        Conflict: the start-up already applied (guarded by a unique constraint).
    """
    if user.role != Role.STARTUP or not can_act_for_org(user, user.organisation_id):
        raise Forbidden()
    challenge = challenge_service.get_visible(user, challenge_id)
    if not challenge.accepts_applications(today or date.today()):
        raise InvalidTransition(str(_l("This challenge does not accept applications.")))
    proposal = _check_proposal(proposal)
    if existing_for(user, challenge_id) is not None:
        raise Conflict(str(_l("Your organisation already applied to this challenge.")))
    application = Application(
        challenge_id=challenge.id,
        organisation_id=user.organisation_id,
        submitted_by_id=user.id,
        proposal=proposal,
        status=ApplicationStatus.SUBMITTED,
    )
    db.session.add(application)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("Your organisation already applied to this challenge."))) from exc
    audit.record(user, "application.submit", application, challenge_id=challenge.id)
    notify.application_submitted(application)
    db.session.commit()
    return application


def edit(user: User, application_id: int, proposal: str, today: date | None = None) -> Application:
    application = _get_own(user, application_id)
    if application.status not in EDITABLE or not application.challenge.accepts_applications(
        today or date.today()
    ):
        raise InvalidTransition(str(_l("This application can no longer be edited.")))
    application.proposal = _check_proposal(proposal)
    audit.record(user, "application.edit", application)
    db.session.commit()
    return application


def withdraw(user: User, application_id: int) -> Application:
    application = _get_own(user, application_id)
    if application.status not in WITHDRAWABLE:
        raise InvalidTransition(str(_l("This application can no longer be withdrawn.")))
    application.status = ApplicationStatus.WITHDRAWN
    audit.record(user, "application.withdraw", application)
    db.session.commit()
    return application


def decide(user: User, application_id: int, decision: str, message: str | None) -> Application:
    """Shortlist, reject or select an application to one of the user's own challenges.

    Raises:
        NotFound: not an application to one of the user's challenges.
        InvalidTransition: the municipality is not verified (nothing it writes reaches start-ups),
            or the decision is not possible in the application's status.
    """
    application = db.session.get(Application, application_id)
    if application is None or not owns_challenge(user, application.challenge):
        raise NotFound()
    if not may_change_challenge(user, application.challenge):
        raise Forbidden(str(_l("Viewers of the organisation can read applications but not decide on them.")))
    if not application.challenge.organisation.is_verified:
        raise InvalidTransition(str(_l(
            "Your municipality is not verified yet; you can decide on applications once it is.")))
    if decision not in DECISIONS:
        raise InvalidInput("unknown decision")
    sources, target = DECISIONS[decision]
    if application.status not in sources:
        raise InvalidTransition(str(_l("This decision is not possible in the current status.")))
    application.status = target
    application.decision_message = (message or "").strip() or None
    application.decided_at = datetime.now(UTC)
    audit.record(user, f"application.{decision}", application)
    notify.application_decided(application)
    db.session.commit()
    return application


def for_challenge_query(user: User, challenge_id: int) -> sa.Select:
    """Applications to one of the user's own challenges (NotFound for anyone else's)."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not (
        owns_challenge(user, challenge) or is_staff(user)
    ):
        raise NotFound()
    return (
        sa.select(Application)
        .where(
            Application.challenge_id == challenge_id,
            Application.status != ApplicationStatus.DRAFT,
        )
        .order_by(Application.created_at)
    )


def own_query(user: User) -> sa.Select:
    return (
        sa.select(Application)
        .where(Application.organisation_id == user.organisation_id)
        .order_by(Application.updated_at.desc())
    )
