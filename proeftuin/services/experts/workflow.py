"""A question's way through the pool: a municipality member asks (the facilitators are told), a
facilitator assigns an expert with a due date, both sides write in the thread, the expert answers
and staff close it; every step notifies the other side.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ExpertArea, Language, QuestionStatus, Role
from proeftuin.extensions import db
from proeftuin.models import Challenge, ExpertProfile, ExpertQuestion, QuestionMessage, User
from proeftuin.policy import STAFF_ROLES, is_staff
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, audit, notify
from proeftuin.services.experts.access import get_visible
from proeftuin.services.experts.rules import ANSWERABLE_STATUSES, ASSIGNABLE_STATUSES

NEW_QUESTION_TEXT = _l("New question for the expert pool from %(organisation)s: \u201c%(title)s\u201d.")
NEW_QUESTION_SUBJECT = _l("New expert question: %(title)s")
ASSIGNED_TEXT = _l("A question was assigned to you: \u201c%(title)s\u201d. Please answer by %(due)s.")
ASSIGNED_SUBJECT = _l("Expert question for you: %(title)s")
ASSIGNED_ASKER_TEXT = _l("An expert is working on your question \u201c%(title)s\u201d. Expected answer by %(due)s.")
MESSAGE_TEXT = _l("New message from %(author)s about the question \u201c%(title)s\u201d.")
MESSAGE_SUBJECT = _l("New message: %(title)s")
ANSWERED_TEXT = _l("Your question \u201c%(title)s\u201d has been answered.")
ANSWERED_SUBJECT = _l("Answer to your question: %(title)s")
CLOSED_TEXT = _l("Your question \u201c%(title)s\u201d was closed by the support point.")


@dataclass
class QuestionData:
    area: ExpertArea
    title: str
    question: str
    language: Language
    challenge_id: int | None = None


def _active_facilitators() -> list[User]:
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.FACILITATOR, User.active.is_(True)).order_by(User.id)
    ))


def _values(question: ExpertQuestion, **extra: object):
    def values() -> dict:
        due = format_date(question.due_on) if question.due_on else ""
        return {"title": question.title, "organisation": question.organisation.name, "due": due, **extra}
    return values


def _link(question: ExpertQuestion) -> str:
    return f"/questions/{question.id}"


def ask(user: User, data: QuestionData) -> ExpertQuestion:
    """A municipality member asks the expert pool; the facilitators are told.

    Raises:
        Forbidden: the user is not a municipality member.
        InvalidInput: the challenge is not one of the user's municipality, or a text is empty.
    """
    if user.role != Role.MUNICIPALITY or user.organisation_id is None:
        raise Forbidden()
    title = data.title.strip()
    text = data.question.strip()
    if not title:
        raise InvalidInput(str(_l("Give your question a title.")), "title")
    if not text:
        raise InvalidInput(str(_l("Write your question.")), "question")
    if data.challenge_id is not None:
        challenge = db.session.get(Challenge, data.challenge_id)
        if challenge is None or challenge.organisation_id != user.organisation_id:
            raise InvalidInput(str(_l("Choose one of your own challenges.")), "challenge_id")
    question = ExpertQuestion(
        organisation_id=user.organisation_id, asked_by_id=user.id, challenge_id=data.challenge_id,
        area=data.area.value, title=title, question=text, language=data.language,
        status=QuestionStatus.OPEN,
    )
    db.session.add(question)
    db.session.flush()
    audit.record(user, "question.ask", question, area=question.area, challenge_id=data.challenge_id)
    notify.notify_users(_active_facilitators(), "question.new", NEW_QUESTION_TEXT, _link(question),
                        _values(question), NEW_QUESTION_SUBJECT, NEW_QUESTION_TEXT)
    db.session.commit()
    return question


def _expert_user(user_id: int | None) -> User:
    profile = db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == user_id)) \
        if user_id is not None else None
    if profile is None or not profile.available or not profile.user.active or profile.user.role not in STAFF_ROLES:
        raise InvalidInput(str(_l("Choose an available expert.")), "expert_id")
    return profile.user


def assign(actor: User, question_id: int, expert_id: int, due_on: date, today: date | None = None) -> ExpertQuestion:
    """Assign (or reassign) a question to an expert with a due date; the expert is told.

    Raises:
        Forbidden: the actor is not staff.
        NotFound: no such question.
        InvalidTransition: the question is answered or closed.
        InvalidInput: the expert is not an available expert, or the due date has passed.
    """
    if not is_staff(actor):
        raise Forbidden()
    question = get_visible(actor, question_id)
    if question.status not in ASSIGNABLE_STATUSES:
        raise InvalidTransition(str(_l("An answered or closed question cannot be assigned.")))
    expert = _expert_user(expert_id)
    today = today or date.today()
    if due_on is None or due_on < today:
        raise InvalidInput(str(_l("The due date cannot be in the past.")), "due_on")
    previous = question.expert_id
    question.expert_id = expert.id
    question.assigned_by_id = actor.id
    question.due_on = due_on
    question.status = QuestionStatus.ASSIGNED
    audit.record(actor, "question.assign", question, expert_id=expert.id, previous_expert_id=previous,
                 due_on=due_on.isoformat())
    if previous != expert.id:
        notify.notify_users([expert], "question.assigned", ASSIGNED_TEXT, _link(question), _values(question),
                            ASSIGNED_SUBJECT, ASSIGNED_TEXT)
    if previous is None:
        notify.notify_users(notify.members(question.organisation), "question.assigned", ASSIGNED_ASKER_TEXT,
                            _link(question), _values(question))
    db.session.commit()
    return question


def _on_asking_side(user: User, question: ExpertQuestion) -> bool:
    return user.role == Role.MUNICIPALITY and user.organisation_id == question.organisation_id


def post_message(actor: User, question_id: int, body: str) -> QuestionMessage:
    """Add a message to the question's thread and tell the other side.

    A message from the municipality goes to the assigned expert (or the facilitators while none is
    assigned); a message from the support point goes to the municipality's members (and to the
    expert when someone else wrote it).

    Raises:
        NotFound: the question does not exist or the actor may not see it.
        InvalidTransition: the question is closed.
        InvalidInput: an empty message.
    """
    question = get_visible(actor, question_id)
    if question.status == QuestionStatus.CLOSED:
        raise InvalidTransition(str(_l("This question is closed.")))
    text = (body or "").strip()
    if not text:
        raise InvalidInput(str(_l("Write a message.")), "body")
    message = QuestionMessage(question_id=question.id, author_id=actor.id, body=text)
    db.session.add(message)
    db.session.flush()
    audit.record(actor, "question.message", question, message_id=message.id)
    if _on_asking_side(actor, question):
        recipients = [question.expert] if question.expert is not None else _active_facilitators()
    else:
        recipients = notify.members(question.organisation)
        if question.expert is not None and question.expert_id != actor.id:
            recipients.append(question.expert)
    recipients = [u for u in recipients if u.id != actor.id]
    notify.notify_users(recipients, "question.message", MESSAGE_TEXT, _link(question),
                        _values(question, author=actor.name), MESSAGE_SUBJECT, MESSAGE_TEXT)
    db.session.commit()
    return message


def answer(actor: User, question_id: int, text: str) -> ExpertQuestion:
    """The expert (or another facilitator) answers; the asking municipality's members are told.

    Raises:
        Forbidden: the actor is not staff.
        InvalidTransition: the question was already answered or is closed.
        InvalidInput: an empty answer.
    """
    if not is_staff(actor):
        raise Forbidden()
    question = get_visible(actor, question_id)
    if question.status not in ANSWERABLE_STATUSES:
        raise InvalidTransition(str(_l("This question was already answered or closed.")))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(str(_l("Write the answer.")), "answer")
    if question.expert_id is None:
        question.expert_id = actor.id
        question.assigned_by_id = actor.id
    question.answer = text
    question.answered_at = datetime.now(UTC)
    question.status = QuestionStatus.ANSWERED
    audit.record(actor, "question.answer", question)
    notify.notify_users(notify.members(question.organisation), "question.answered", ANSWERED_TEXT,
                        _link(question), _values(question), ANSWERED_SUBJECT, ANSWERED_TEXT)
    db.session.commit()
    return question


def close(actor: User, question_id: int) -> ExpertQuestion:
    """Close a question (answered or not); the thread stops. Staff only."""
    if not is_staff(actor):
        raise Forbidden()
    question = get_visible(actor, question_id)
    if question.status == QuestionStatus.CLOSED:
        raise InvalidTransition(str(_l("This question is already closed.")))
    previous = question.status
    question.status = QuestionStatus.CLOSED
    audit.record(actor, "question.close", question, previous=previous.value)
    notify.notify_users(notify.members(question.organisation), "question.closed", CLOSED_TEXT,
                        _link(question), _values(question))
    db.session.commit()
    return question
