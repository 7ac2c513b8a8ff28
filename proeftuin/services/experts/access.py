"""Who may see a question: staff, the assigned expert and the members of the asking municipality;
anyone else gets NotFound, whether or not the question exists.
"""
from __future__ import annotations

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import ExpertQuestion, User
from proeftuin.policy import is_staff
from proeftuin.services import NotFound


def can_view(user: User | None, question: ExpertQuestion) -> bool:
    """Staff, the assigned expert, and the members of the asking municipality."""
    if user is None or not user.is_authenticated:
        return False
    if is_staff(user) or (question.expert_id is not None and question.expert_id == user.id):
        return True
    return user.role == Role.MUNICIPALITY and user.organisation_id == question.organisation_id


def get_visible(user: User, question_id: int) -> ExpertQuestion:
    """Raises NotFound when the question does not exist or the user may not see it (no oracle)."""
    question = db.session.get(ExpertQuestion, question_id)
    if question is None or not can_view(user, question):
        raise NotFound()
    return question
