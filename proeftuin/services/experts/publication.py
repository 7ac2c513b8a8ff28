"""Publishing an answered question to the knowledge base as an anonymised copy: the anonymiser
(services/anonymiser) finds the personal data; this module gives it what the platform knows
about the question (people, organisations, places, the challenge), drafts the public text,
shows the facilitator what is replaced and what is left, and publishes only a text with no
personal data left that the facilitator confirmed.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import OrgKind, QuestionStatus
from proeftuin.extensions import db
from proeftuin.models import ExpertQuestion, Municipality, Organisation, User
from proeftuin.policy import is_staff
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, anonymiser, audit
from proeftuin.services.experts.access import get_visible

PUBLISH_ACTIONS = ("question.publish", "question.update_public")
CONFIRM_TEXT = _l("Confirm that you have read the text and that it contains no personal data.")


def identifiers(question: ExpertQuestion) -> anonymiser.Context:
    """What identifies the people and organisations behind a question, for the anonymiser.

    The users involved (the asker, the organisation's members, the expert, whoever assigned it or wrote
    in the thread): their names and e-mail addresses. Every organisation on the platform except the
    support point itself (municipalities count as places), their websites, every municipality of the
    Municipality table (nl and fr), and the title of the challenge the question is about.
    """
    org = question.organisation
    people = [question.asked_by, *org.members, question.expert, *(m.author for m in question.messages)]
    if question.assigned_by_id is not None:
        people.append(db.session.get(User, question.assigned_by_id))
    people = [p for p in dict.fromkeys(people) if p is not None]
    organisations, places, websites = [], [org.name], []
    for kind, name, website in db.session.execute(
            sa.select(Organisation.kind, Organisation.name, Organisation.website)
            .where(Organisation.kind != OrgKind.FACILITATOR)):
        (places if kind == OrgKind.MUNICIPALITY else organisations).append(name)
        if website:
            websites.append(website.split("//")[-1].split("/")[0])
    for name_nl, name_fr in db.session.execute(sa.select(Municipality.name_nl, Municipality.name_fr)):
        places += [n for n in (name_nl, name_fr) if n]
    return anonymiser.Context(
        people=[p.name for p in people if p.name],
        emails=[p.email for p in people if p.email],
        organisations=organisations,
        places=places,
        challenges=[question.challenge.title] if question.challenge is not None else [],
        domains=websites,
    )


def anonymise(text: str, found: anonymiser.Context, language: str) -> str:
    """Replace the personal data in `text` by placeholders in `language` ("[naam]", "[nom]", "[name]")."""
    return anonymiser.anonymise(text or "", found, language)


def leftover(text: str, found: anonymiser.Context) -> anonymiser.Detection | None:
    """The first span of personal data the anonymiser still finds in `text`, if any."""
    detections = anonymiser.detect(text, found)
    return detections[0] if detections else None


@dataclass
class PublicText:
    title: str
    question: str
    answer: str


@dataclass
class PublicationReview:
    """The public text cut for highlighting, and the original with what the anonymiser replaces.

    `public[field]` and `original[field]` are lists of `anonymiser.Segment`; `found` counts the spans
    that still block publication, `warnings` the words that look like names.
    """

    public: dict[str, list[anonymiser.Segment]]
    original: dict[str, list[anonymiser.Segment]]
    found: int
    warnings: int


def _publishable(actor: User, question_id: int) -> ExpertQuestion:
    if not is_staff(actor):
        raise Forbidden()
    question = get_visible(actor, question_id)
    if not question.answer or question.status not in (QuestionStatus.ANSWERED, QuestionStatus.CLOSED):
        raise InvalidTransition(str(_l("Only answered questions can be published.")))
    return question


def publication_draft(actor: User, question_id: int) -> PublicText:
    """The text to publish: the current public text, or a fresh anonymised copy of the original."""
    question = _publishable(actor, question_id)
    if question.public_title and question.public_question and question.public_answer:
        return PublicText(question.public_title, question.public_question, question.public_answer)
    found = identifiers(question)
    language = question.language.value
    return PublicText(
        title=anonymise(question.title, found, language),
        question=anonymise(question.question, found, language),
        answer=anonymise(question.answer or "", found, language),
    )


def review_publication(actor: User, question_id: int, public: PublicText) -> PublicationReview:
    """What the facilitator sees before publishing: placeholders, leftovers and name-like words."""
    question = _publishable(actor, question_id)
    found = identifiers(question)
    texts = {"title": public.title or "", "question": public.question or "", "answer": public.answer or ""}
    originals = {"title": question.title, "question": question.question, "answer": question.answer or ""}
    cut = {name: anonymiser.segments(value, found) for name, value in texts.items()}
    return PublicationReview(
        public=cut,
        original={name: anonymiser.marked(value, found) for name, value in originals.items()},
        found=sum(s.level == "found" for parts in cut.values() for s in parts),
        warnings=sum(s.level == "warning" for parts in cut.values() for s in parts),
    )


def publish(actor: User, question_id: int, public: PublicText, *, confirmed: bool) -> ExpertQuestion:
    """Publish (or update) a question's anonymised copy in the knowledge base.

    Args:
        actor: the staff member who read the text.
        question_id: an answered or closed question.
        public: the public title, question and answer, as the staff member edited them.
        confirmed: the staff member declared the text holds no personal data.

    Raises:
        Forbidden: the actor is not staff.
        InvalidTransition: the question has no answer.
        InvalidInput: a text is empty or still holds personal data the anonymiser finds (field
            named), or the text was not confirmed (field "confirm").
    """
    question = _publishable(actor, question_id)
    found = identifiers(question)
    texts = {"title": public.title.strip(), "question": public.question.strip(), "answer": public.answer.strip()}
    for name, value in texts.items():
        if not value:
            raise InvalidInput(str(_l("This text cannot be empty.")), name)
        left = leftover(value, found)
        if left is not None:
            raise InvalidInput(str(_l(
                "Remove \u201c%(text)s\u201d (%(kind)s): it is personal data, and the knowledge base cannot hold "
                "personal data.", text=left.text, kind=anonymiser.PLACEHOLDERS[left.kind])), name)
    if not confirmed:
        raise InvalidInput(str(CONFIRM_TEXT), "confirm")
    question.public_title = texts["title"]
    question.public_question = texts["question"]
    question.public_answer = texts["answer"]
    first = not question.published
    question.published = True
    audit.record(actor, "question.publish" if first else "question.update_public", question, confirmed=True)
    db.session.commit()
    return question


def unpublish(actor: User, question_id: int) -> ExpertQuestion:
    """Take an entry out of the knowledge base (its public text is kept for a later publication)."""
    if not is_staff(actor):
        raise Forbidden()
    question = get_visible(actor, question_id)
    if not question.published:
        raise InvalidTransition(str(_l("This question is not in the knowledge base.")))
    question.published = False
    audit.record(actor, "question.unpublish", question)
    db.session.commit()
    return question
