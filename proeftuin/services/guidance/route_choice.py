"""The route a challenge follows: who may use the guidance for a challenge (its own municipality and
staff; NotFound for anyone else) and setting the challenge's procurement route while the
challenge can still be edited.
"""
from __future__ import annotations

from flask_babel import gettext as _

from proeftuin.enums import ChallengeStatus, ProcurementRoute
from proeftuin.extensions import db
from proeftuin.models import Challenge, User
from proeftuin.policy import is_staff, owns_challenge
from proeftuin.services import InvalidInput, InvalidTransition, NotFound, audit
from proeftuin.services import challenges as challenge_service

# Statuses in which the owner may still change the route (the same as services.challenges.update).
EDITABLE_STATUSES = (ChallengeStatus.DRAFT, ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED)


def get_for_guidance(user: User, challenge_id: int) -> Challenge:
    """The challenge, for its own municipality and for staff.

    Raises:
        NotFound: for anyone else, whether or not the challenge exists.
    """
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not (owns_challenge(user, challenge) or is_staff(user)):
        raise NotFound()
    return challenge


def set_route(user: User, challenge_id: int, route: ProcurementRoute | str) -> Challenge:
    """Set the challenge's procurement route (the owner, while the challenge can still be edited).

    Raises:
        NotFound: the challenge is not the user's municipality's.
        InvalidInput: the route is unknown (field `route`).
        InvalidTransition: the challenge can no longer be edited.
    """
    challenge = challenge_service.get_changeable(user, challenge_id)
    try:
        route = ProcurementRoute(route)
    except ValueError:
        raise InvalidInput(_("Choose one of the procurement routes."), "route") from None
    if challenge.status not in EDITABLE_STATUSES:
        raise InvalidTransition(_("This challenge can no longer be edited."))
    previous = challenge.procurement_route
    if previous == route:
        return challenge
    challenge.procurement_route = route
    audit.record(user, "challenge.set_route", challenge, route=route.value, previous=previous.value)
    db.session.commit()
    return challenge
