"""The rules every part of an experiment shares: the status flow (proposed -> planned -> running ->
evaluated -> procurement, or stopped) and the sets of statuses in which measuring, deciding or
editing the follow-up procurement is allowed, the challenges an experiment can start from, the
limits on numbers, and the small checks built on them (a closed experiment cannot change, a
buyer group counts its joined members only, an empty text is no text).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from proeftuin.enums import ChallengeStatus, ExperimentStatus, InvitationStatus
from proeftuin.models import BuyerGroup, Experiment
from proeftuin.services import InvalidTransition

FLOW = (
    ExperimentStatus.PROPOSED,
    ExperimentStatus.PLANNED,
    ExperimentStatus.RUNNING,
    ExperimentStatus.EVALUATED,
    ExperimentStatus.PROCUREMENT,
)
NEXT = dict(zip(FLOW, FLOW[1:], strict=False))
FINAL = frozenset({ExperimentStatus.PROCUREMENT, ExperimentStatus.STOPPED})
ACTIVE = frozenset({ExperimentStatus.RUNNING, ExperimentStatus.EVALUATED})
MEASURABLE = ACTIVE
DECIDABLE = ACTIVE
PROCUREMENT_EDITABLE = frozenset({ExperimentStatus.EVALUATED, ExperimentStatus.PROCUREMENT})
# A challenge an experiment can start from: published or closed for applications, or already in
# another experiment. Drafts would become public when the pilot starts; archived ones are done.
CHALLENGE_STATUSES = (ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.IN_EXPERIMENT)
LIST_STATUSES = {"open", *ExperimentStatus.values()}
MAX_VALUE = 1e12
MAX_PROCUREMENT_VALUE = 2_000_000_000  # euro; the column is an INTEGER (at most 2**31 - 1 on PostgreSQL)


def _joined_members(group: BuyerGroup) -> list:
    return [m for m in group.members if m.invitation == InvitationStatus.JOINED]


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _check_not_final(experiment: Experiment) -> None:
    if experiment.status in FINAL:
        raise InvalidTransition(str(_l("This experiment is closed; it can no longer be changed.")))
