"""The expert pool: expertise profiles, questions routed to experts, and the anonymised knowledge base.

- Experts are facilitator or admin users with an `ExpertProfile` (no role of their own).
- A municipality asks a question (optionally about one of its own challenges); the engine proposes
  the experts whose expertise fits (`propose_experts`); a facilitator assigns one with a due date;
  the question has a thread and an answer.
- An answered question can be published to the knowledge base, but only as an anonymised copy
  (`public_*` fields) that staff checked: the knowledge base never reads the original texts.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ExpertArea, Language, OrgKind, QuestionStatus, Role
from proeftuin.extensions import db
from proeftuin.models import (
    AuditEvent,
    Challenge,
    ExpertProfile,
    ExpertQuestion,
    Municipality,
    Organisation,
    QuestionMessage,
    User,
)
from proeftuin.policy import STAFF_ROLES, is_staff
from proeftuin.services import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    anonymiser,
    audit,
    matching,
    notify,
    outbox,
)
from proeftuin.services.listing import like_pattern, one_of
from proeftuin.services.texts import EXPERT

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ASSIGNED)
ANSWERABLE_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ASSIGNED)
ASSIGNABLE_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ASSIGNED)
DEFAULT_WORKING_DAYS = 10

# The engine's text score is in standard deviations above the average candidate expert; the
# structured signals nudge it by these amounts and each is shown as a reason. Product choices:
# the text decides, an area or language match breaks near-ties.
AREA_BONUS = 0.5
LANGUAGE_BONUS = 0.25
PROPOSALS = 5

# Question list: active questions first, then by due date (unassigned questions have none and
# come first: they still need an expert), then oldest first.
QUESTION_ORDER = (
    sa.case((ExpertQuestion.status.in_(ACTIVE_STATUSES), 0), else_=1),
    ExpertQuestion.due_on.asc().nulls_first(),
    ExpertQuestion.created_at.asc(),
    ExpertQuestion.id,
)

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

def add_working_days(start: date, days: int) -> date:
    """`start` plus `days` working days (Monday to Friday; public holidays are not counted out)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def default_due_date(today: date | None = None) -> date:
    return add_working_days(today or date.today(), DEFAULT_WORKING_DAYS)


def is_overdue(question: ExpertQuestion, today: date | None = None) -> bool:
    """Past its due date and not answered yet."""
    today = today or date.today()
    return question.status in ACTIVE_STATUSES and question.due_on is not None and question.due_on < today


# ---- expertise profiles --------------------------------------------------------------------

@dataclass
class ProfileData:
    areas: list[ExpertArea]
    expertise: str
    languages: list[Language]
    language: Language
    available: bool = True


def own_profile(user: User) -> ExpertProfile | None:
    return db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == user.id))


def save_profile(user: User, data: ProfileData) -> ExpertProfile:
    """Create or update the acting facilitator's (or admin's) expertise profile.

    Raises:
        Forbidden: the user is not staff.
        InvalidInput: no area, no language, or too short a description.
    """
    if not is_staff(user):
        raise Forbidden()
    if not data.areas:
        raise InvalidInput(str(_l("Choose at least one area.")), "areas")
    if not data.languages:
        raise InvalidInput(str(_l("Choose at least one language.")), "languages")
    expertise = data.expertise.strip()
    if len(expertise) < 30:
        raise InvalidInput(str(_l("Describe your expertise in a few sentences.")), "expertise")
    profile = own_profile(user)
    created = profile is None
    if profile is None:
        profile = ExpertProfile(user_id=user.id)
        db.session.add(profile)
    profile.areas = [a.value for a in dict.fromkeys(data.areas)]
    profile.languages = [lang.value for lang in dict.fromkeys(data.languages)]
    profile.expertise = expertise
    profile.language = data.language
    profile.available = data.available
    db.session.flush()
    audit.record(user, "expert.profile_create" if created else "expert.profile_update", profile,
                 available=data.available)
    outbox.record("index.sync", {"kind": EXPERT, "id": profile.id})
    db.session.commit()
    return profile


@dataclass
class PoolEntry:
    profile: ExpertProfile
    open_load: int


def _open_loads(user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(ExpertQuestion.expert_id, sa.func.count())
        .where(ExpertQuestion.expert_id.in_(user_ids), ExpertQuestion.status == QuestionStatus.ASSIGNED)
        .group_by(ExpertQuestion.expert_id)
    ).all()
    return {user_id: count for user_id, count in rows}


def pool(actor: User) -> list[PoolEntry]:
    """Every expert with their areas, languages and open load (assigned, unanswered questions)."""
    if not is_staff(actor):
        raise Forbidden()
    profiles = list(db.session.scalars(
        sa.select(ExpertProfile).join(ExpertProfile.user).order_by(User.name, User.id)
    ))
    loads = _open_loads([p.user_id for p in profiles])
    return [PoolEntry(p, loads.get(p.user_id, 0)) for p in profiles]


def _available_profiles() -> list[ExpertProfile]:
    return list(db.session.scalars(
        sa.select(ExpertProfile).join(ExpertProfile.user)
        .where(ExpertProfile.available.is_(True), User.active.is_(True), User.role.in_(STAFF_ROLES))
        .order_by(User.name, User.id)
    ))


def assignable_experts() -> list[User]:
    """The users a question can be assigned to: available experts with an active staff account."""
    return [p.user for p in _available_profiles()]


# ---- questions -----------------------------------------------------------------------------

@dataclass
class QuestionData:
    area: ExpertArea
    title: str
    question: str
    language: Language
    challenge_id: int | None = None


def own_challenges(user: User) -> list[Challenge]:
    """The challenges a municipality member may tie a question to (their own organisation's)."""
    if user.role != Role.MUNICIPALITY or user.organisation_id is None:
        return []
    return list(db.session.scalars(
        sa.select(Challenge).where(Challenge.organisation_id == user.organisation_id)
        .order_by(Challenge.updated_at.desc(), Challenge.id.desc())
    ))


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


@dataclass
class QuestionFilters:
    status: str | None = None
    area: str | None = None
    overdue: bool = False
    mine: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QuestionFilters:
        """Read the list filters, refusing values outside the allowlists (InvalidInput)."""
        return cls(
            status=one_of(args, "status", {"active", *QuestionStatus.values()}),
            area=one_of(args, "area", ExpertArea.values()),
            overdue=one_of(args, "overdue", {"1"}) == "1",
            mine=one_of(args, "mine", {"1"}) == "1",
        )


def list_query(user: User, filters: QuestionFilters, today: date | None = None) -> sa.Select:
    """Questions the user may see: their municipality's, or (staff) all of them, with filters."""
    today = today or date.today()
    stmt = sa.select(ExpertQuestion)
    if user.role == Role.MUNICIPALITY:
        stmt = stmt.where(ExpertQuestion.organisation_id == user.organisation_id)
    elif not is_staff(user):
        raise Forbidden()
    if filters.status == "active":
        stmt = stmt.where(ExpertQuestion.status.in_(ACTIVE_STATUSES))
    elif filters.status:
        stmt = stmt.where(ExpertQuestion.status == QuestionStatus(filters.status))
    if filters.area:
        stmt = stmt.where(ExpertQuestion.area == filters.area)
    if filters.overdue:
        stmt = stmt.where(ExpertQuestion.status.in_(ACTIVE_STATUSES), ExpertQuestion.due_on < today)
    if filters.mine:
        stmt = stmt.where(ExpertQuestion.expert_id == user.id)
    return stmt.order_by(*QUESTION_ORDER)


# ---- proposing experts ---------------------------------------------------------------------

@dataclass
class ExpertProposal:
    """One expert proposed for a question, with the reasons (same shape as a start-up suggestion)."""

    profile: ExpertProfile
    score: float
    parts: dict[str, float]
    open_load: int = 0
    passages: list[tuple[str, str, float]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)


def question_text(question: ExpertQuestion) -> str:
    return "\n".join(p.strip() for p in (question.title, question.question) if p and p.strip())


def propose_experts(question: ExpertQuestion, k: int = PROPOSALS) -> list[ExpertProposal]:
    """The available experts best suited to a question, best first, with the reasons.

    The engine ranks the experts' own descriptions against the question (any language); a small
    bonus is added when the question's area is one of the expert's areas and when the expert
    speaks the question's language.
    """
    profiles = {p.id: p for p in _available_profiles()}
    if not profiles:
        return []
    text = question_text(question)
    language = question.language.value
    ranked = matching.rank(EXPERT, text, language, set(profiles), k=len(profiles))
    explanations = matching.explain(EXPERT, text, language, [item.id for item in ranked if item.id in profiles])
    loads = _open_loads([p.user_id for p in profiles.values()])
    out: list[ExpertProposal] = []
    for item in ranked:
        profile = profiles.get(item.id)
        if profile is None:  # the engine only proposes; the database decides
            continue
        parts = {"text": float(item.score)}
        reasons: list[dict] = []
        if question.area in (profile.areas or []):
            parts["area"] = AREA_BONUS
            reasons.append({"code": "area", "values": [question.area]})
        if language in (profile.languages or []):
            parts["language"] = LANGUAGE_BONUS
            reasons.append({"code": "language", "values": [language]})
        explanation = explanations.get(profile.id)
        out.append(ExpertProposal(
            profile=profile, score=sum(parts.values()), parts=parts, open_load=loads.get(profile.user_id, 0),
            passages=list(explanation.passage_pairs) if explanation else [],
            terms=list(explanation.shared_terms) if explanation else [], reasons=reasons,
        ))
    out.sort(key=lambda p: p.score, reverse=True)
    return out[:k]


# ---- the workflow --------------------------------------------------------------------------

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


# ---- anonymisation and the knowledge base --------------------------------------------------
# The anonymiser (services/anonymiser) finds the personal data; this part gives it what the platform
# knows about a question and keeps the knowledge base to texts a facilitator read and confirmed.

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


@dataclass
class KnowledgeFilters:
    q: str | None = None
    area: str | None = None
    language: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> KnowledgeFilters:
        return cls(
            q=args.get("q", "").strip()[:200] or None,
            area=one_of(args, "area", ExpertArea.values()),
            language=one_of(args, "language", Language.values()),
        )


def knowledge_query(filters: KnowledgeFilters) -> sa.Select:
    """Published entries only; the keyword search reads the public (anonymised) fields only."""
    stmt = sa.select(ExpertQuestion).where(ExpertQuestion.published.is_(True))
    if filters.area:
        stmt = stmt.where(ExpertQuestion.area == filters.area)
    if filters.language:
        stmt = stmt.where(ExpertQuestion.language == Language(filters.language))
    if filters.q:
        for word in filters.q.split()[:8]:
            pattern = like_pattern(word)
            stmt = stmt.where(sa.or_(
                ExpertQuestion.public_title.ilike(pattern, escape="\\"),
                ExpertQuestion.public_question.ilike(pattern, escape="\\"),
                ExpertQuestion.public_answer.ilike(pattern, escape="\\"),
            ))
    return stmt.order_by(ExpertQuestion.answered_at.desc().nulls_last(), ExpertQuestion.id.desc())


@dataclass
class KnowledgeEntry:
    """What the knowledge base may show of a question: the public copy and nothing else.

    `checked_on`: the day a facilitator last confirmed the public text holds no personal data
    (None for entries published before that confirmation existed).
    """

    id: int
    area: ExpertArea
    language: Language
    title: str
    question: str
    answer: str
    answered_on: date | None
    checked_on: date | None = None


def entry_of(question: ExpertQuestion, checked_on: date | None = None) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=question.id, area=ExpertArea(question.area), language=question.language,
        title=question.public_title or "", question=question.public_question or "",
        answer=question.public_answer or "",
        answered_on=question.answered_at.date() if question.answered_at else None,
        checked_on=checked_on,
    )


def checked_on(question: ExpertQuestion) -> date | None:
    """The day of the last publication or update of the public text, if the facilitator confirmed it."""
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "ExpertQuestion", AuditEvent.object_id == question.id,
               AuditEvent.action.in_(PUBLISH_ACTIONS))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    if event is None or not (event.detail or {}).get("confirmed"):
        return None
    return event.at.date()


def get_published(question_id: int) -> KnowledgeEntry:
    question = db.session.get(ExpertQuestion, question_id)
    if question is None or not question.published or not question.public_answer:
        raise NotFound()
    return entry_of(question, checked_on(question))


# ---- demo ----------------------------------------------------------------------------------

DEMO_EXPERTS = [
    {
        "email": None,  # the demo facilitator log-in (seeding.DEMO_LOGINS)
        "areas": [ExpertArea.PROCUREMENT_LAW, ExpertArea.PROCEDURES],
        "languages": [Language.NL, Language.FR, Language.EN],
        "language": Language.NL,
        "expertise": (
            "Overheidsopdrachtenrecht en innovatieve procedures: marktconsultatie, innovatiepartnerschap, "
            "concurrentiedialoog, mededingingsprocedure met onderhandeling en pre-commerciële aankoop (PCP). "
            "Drempels, raming van de waarde, gunningscriteria en de opbouw van het bestek. "
            "Begeleiding van lokale besturen bij hun eerste innovatieve aankoop en het PIO-programma."
        ),
    },
    {
        "email": "expert.privacy@demo.proeftuin.be",
        "name": "Demo expert data en privacy",
        "areas": [ExpertArea.DATA_AND_PRIVACY, ExpertArea.TECHNICAL],
        "languages": [Language.NL, Language.EN],
        "language": Language.EN,
        "expertise": (
            "Data protection and privacy in public pilots: GDPR, data protection impact assessments, "
            "processing agreements with suppliers, camera and sensor data in public space, retention "
            "periods, anonymisation of personal data and open data publication."
        ),
    },
    {
        "email": "expert.ip@demo.proeftuin.be",
        "name": "Demo expert IE en contracten",
        "areas": [ExpertArea.IP_AND_CONTRACTS, ExpertArea.STATE_AID_AND_FUNDING],
        "languages": [Language.FR, Language.NL, Language.EN],
        "language": Language.FR,
        "expertise": (
            "Propriété intellectuelle et contrats: droits sur les résultats d'un projet pilote, licences "
            "d'utilisation pour la commune, accords de confidentialité (NDA), clauses de responsabilité, "
            "conventions de pilote avec des start-ups, aides d'État et cofinancement européen."
        ),
    },
]


def load_demo_experts() -> int:
    """Give the demo facilitator an expertise profile and add two demo experts (idempotent).

    Does nothing until the demo log-ins exist. Returns the number of profiles created; the vectors
    follow at the next `flask index rebuild`.
    """
    from proeftuin.services.accounts import staff_organisation
    from proeftuin.services.passwords import hash_password
    from proeftuin.services.seeding import DEMO_LOGINS, DEMO_PASSWORD

    facilitator_email = next(d.email for d in DEMO_LOGINS if d.role == "facilitator")
    if db.session.scalar(sa.select(User).where(User.email == facilitator_email)) is None:
        return 0
    created = 0
    password_hash = None
    for item in DEMO_EXPERTS:
        email = item["email"] or facilitator_email
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=email, name=item["name"], role=Role.FACILITATOR, organisation=staff_organisation(),
                        password_hash=password_hash, is_demo=True)
            db.session.add(user)
            db.session.flush()
        if own_profile(user) is not None:
            continue
        db.session.add(ExpertProfile(
            user_id=user.id, areas=[a.value for a in item["areas"]], expertise=item["expertise"],
            languages=[lang.value for lang in item["languages"]], language=item["language"], available=True,
        ))
        created += 1
    db.session.commit()
    logger.info("demo experts loaded: %d profiles", created)
    return created
