"""A person's own data: the export (GDPR Art. 15 and 20) and the deletion of the account (Art. 17).

`SECTIONS` is the declared list of every table that holds something of a person, found through the
columns that name them (`by`), with every column of the table either exported or given the reason
it is not. Tests hold it against the schema (SECURITY.md T27): a new column in one of these tables,
or a new table that points at `user_account`, fails until it is declared here.

Deletion keeps the user row (the organisation's content and the audit trail point at it) but
erases what identifies the person: see `delete_account`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from proeftuin.enums import OrgRole, Role
from proeftuin.extensions import db
from proeftuin.models import (
    Application,
    AuditEvent,
    BuyerGroup,
    BuyerGroupMember,
    Challenge,
    Experiment,
    ExperimentEvent,
    ExpertProfile,
    ExpertQuestion,
    Invitation,
    JoinRequest,
    KpiMeasurement,
    MatchSuggestion,
    MunicipalityParticipation,
    Notification,
    OutboxEffect,
    QuestionMessage,
    StartupParticipation,
    User,
)
from proeftuin.services import Conflict, InvalidInput, audit, outbox
from proeftuin.services.mail import InvalidRecipient, queue_mail
from proeftuin.services.passwords import verify_password
from proeftuin.services.texts import EXPERT

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "proeftuin-export/1"
DELETED_NAME = "Deleted user"
UNUSABLE_PASSWORD = "!deleted"  # not an argon2 hash: no password verifies against it

EXPORTED = "exported"
# Reasons a column is not exported (each is a promise the export keeps).
SELF = "points at the person (the export is theirs)"
SECRET = "a secret that never leaves the server"
COUNTER = "a technical counter, says nothing about the person"
OTHER_PERSON = "another person's account"
OTHER_TEXT = "written by someone else"
ENGINE = "computed by the matching engine, not about the person"
SHARED_TERMS = "the experiment's terms and outcome, agreed by its parties"
PUBLIC_COPY = "the anonymised knowledge-base copy, about nobody"


@dataclass(frozen=True)
class Section:
    """One table's rows of a person in the export.

    Attributes:
        key: the name in the export.
        model: the table's model.
        by: the columns that name the person (foreign keys to ``user_account``).
        fields: every column of the table: `EXPORTED`, or why it is not.
        about: rows about the person that do not name them in `by` (audit events on their account).
        extra: values computed per row (e.g. whether the person did it).
    """

    key: str
    model: type
    by: tuple[str, ...]
    fields: Mapping[str, str]
    about: Callable[[User], sa.ColumnElement[bool]] | None = None
    extra: Callable[[object, User], dict] | None = None

    def exported(self) -> list[str]:
        return [name for name, why in self.fields.items() if why == EXPORTED]


def _all(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, EXPORTED)


ACCOUNT = Section("account", User, ("id",), {
    **_all("id", "email", "name", "role", "organisation_id", "org_role", "pending_email", "locale",
           "active", "is_demo", "created_at", "last_login_at", "deleted_at"),
    "password_hash": SECRET, "session_version": COUNTER,
})

_PARTICIPATION = {**_all("experiment_id", "organisation_id", "state", "invited_at", "decided_at"),
                  "invited_by_id": SELF}
_QUESTION_BASE = dict.fromkeys(("published", "public_title", "public_question", "public_answer"), PUBLIC_COPY)

SECTIONS: tuple[Section, ...] = (
    ACCOUNT,
    Section("notifications", Notification, ("user_id",), {
        **_all("id", "kind", "text", "link", "created_at", "read_at"), "user_id": SELF}),
    Section("join_requests", JoinRequest, ("user_id",), {
        **_all("id", "organisation_id", "message", "status", "created_at", "decided_at"),
        "user_id": SELF, "decided_by_id": OTHER_PERSON}),
    Section("join_requests_decided", JoinRequest, ("decided_by_id",), {
        **_all("id", "organisation_id", "status", "decided_at"), "decided_by_id": SELF,
        "user_id": OTHER_PERSON, "message": OTHER_TEXT, "created_at": OTHER_TEXT}),
    Section("invitations_accepted", Invitation, ("accepted_by_id",), {
        **_all("id", "organisation_id", "email", "role", "created_at", "sent_at", "expires_at", "accepted_at",
               "revoked_at"),
        "accepted_by_id": SELF, "invited_by_id": OTHER_PERSON, "token_hash": SECRET}),
    Section("invitations_sent", Invitation, ("invited_by_id",), {
        **_all("id", "organisation_id", "role", "created_at", "sent_at", "expires_at", "accepted_at", "revoked_at"),
        "invited_by_id": SELF, "email": OTHER_PERSON, "accepted_by_id": OTHER_PERSON, "token_hash": SECRET}),
    Section("expert_profile", ExpertProfile, ("user_id",), {
        **_all("id", "areas", "expertise", "languages", "language", "available", "updated_at"), "user_id": SELF}),
    Section("questions_asked", ExpertQuestion, ("asked_by_id",), {
        **_all("id", "organisation_id", "challenge_id", "area", "title", "question", "language", "status",
               "due_on", "answer", "answered_at", "created_at"),
        **_QUESTION_BASE, "asked_by_id": SELF, "expert_id": OTHER_PERSON, "assigned_by_id": OTHER_PERSON}),
    Section("questions_answered", ExpertQuestion, ("expert_id",), {
        **_all("id", "area", "language", "status", "due_on", "answer", "answered_at"),
        **_QUESTION_BASE, "expert_id": SELF, "asked_by_id": OTHER_PERSON, "assigned_by_id": OTHER_PERSON,
        "organisation_id": OTHER_TEXT, "challenge_id": OTHER_TEXT, "title": OTHER_TEXT, "question": OTHER_TEXT,
        "created_at": OTHER_TEXT}),
    Section("questions_assigned", ExpertQuestion, ("assigned_by_id",), {
        **_all("id", "area", "status", "due_on"),
        **_QUESTION_BASE, "assigned_by_id": SELF, "asked_by_id": OTHER_PERSON, "expert_id": OTHER_PERSON,
        **dict.fromkeys(("organisation_id", "challenge_id", "title", "question", "language", "answer",
                         "answered_at", "created_at"), OTHER_TEXT)}),
    Section("messages", QuestionMessage, ("author_id",), {
        **_all("id", "question_id", "body", "created_at"), "author_id": SELF}),
    Section("applications", Application, ("submitted_by_id",), {
        **_all("id", "challenge_id", "organisation_id", "proposal", "status", "decided_at", "created_at",
               "updated_at"),
        "submitted_by_id": SELF, "decision_message": OTHER_TEXT}),
    Section("challenges", Challenge, ("created_by_id",), {
        **_all("id", "organisation_id", "title", "summary", "problem", "desired_outcome", "constraints",
               "evaluation_criteria", "budget_min", "budget_max", "deadline", "language", "procurement_route",
               "status", "is_demo", "created_at", "updated_at", "published_at", "closed_at"),
        "created_by_id": SELF}),
    Section("experiments", Experiment, ("created_by_id",), {
        **_all("id", "title", "challenge_id", "hypothesis", "start_date", "end_date", "status", "created_at"),
        **dict.fromkeys(("buyer_group_id", "suggestion_id", "budget", "ip_terms", "equipment_terms", "data_terms",
                         "decision", "decision_note", "procurement_route", "procurement_value",
                         "procurement_awarded", "updated_at"), SHARED_TERMS),
        "created_by_id": SELF}),
    Section("experiment_startup_invitations", StartupParticipation, ("invited_by_id",), _PARTICIPATION),
    Section("experiment_municipality_invitations", MunicipalityParticipation, ("invited_by_id",), _PARTICIPATION),
    Section("kpi_measurements", KpiMeasurement, ("recorded_by_id",), {
        **_all("id", "kpi_id", "measured_on", "value", "note", "created_at"), "recorded_by_id": SELF}),
    Section("experiment_events", ExperimentEvent, ("actor_id",), {
        **_all("id", "experiment_id", "at", "kind", "text"), "actor_id": SELF}),
    Section("buyer_groups", BuyerGroup, ("created_by_id",), {
        **_all("id", "name", "status", "created_at", "confirmed_at"), "reasons": ENGINE, "created_by_id": SELF}),
    Section("buyer_group_responses", BuyerGroupMember, ("responded_by_id",), {
        **_all("id", "group_id", "challenge_id", "invitation", "responded_at"), "responded_by_id": SELF}),
    Section("match_reviews", MatchSuggestion, ("reviewer_id",), {
        **_all("id", "challenge_id", "profile_id", "status", "reason_code", "reason", "decided_at"),
        **dict.fromkeys(("score", "rank", "components", "explanation", "engine_id", "challenge_hash",
                         "profile_hash", "created_at", "updated_at"), ENGINE),
        "reviewer_id": SELF}),
    Section(
        "audit_events", AuditEvent, ("actor_id",),
        {**_all("id", "at", "organisation_id", "action", "object_type", "object_id", "detail"),
         "actor_id": "shown as by_you: the person, or someone who acted on their account"},
        about=lambda user: sa.and_(AuditEvent.object_type == "User", AuditEvent.object_id == user.id),
        extra=lambda row, user: {"by_you": row.actor_id == user.id},
    ),
)

# Foreign keys to user_account that no section exports, and why (none today).
NOT_EXPORTED_REFERENCES: dict[str, str] = {}


# ---- export --------------------------------------------------------------------------------

def _value(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(model: type) -> dict[str, str]:
    """Column name -> mapped attribute name."""
    return {column.name: prop.key for prop in sa.inspect(model).column_attrs for column in prop.columns}


def _row(section: Section, row: object, user: User) -> dict:
    attrs = _columns(section.model)
    out = {name: _value(getattr(row, attrs[name])) for name in section.exported()}
    if section.extra is not None:
        out.update(section.extra(row, user))
    return out


def _rows(section: Section, user: User) -> list:
    model = section.model
    clauses = [getattr(model, _columns(model)[name]) == user.id for name in section.by]
    if section.about is not None:
        clauses.append(section.about(user))
    keys = [getattr(model, _columns(model)[c.name]) for c in model.__table__.primary_key.columns]
    return list(db.session.scalars(sa.select(model).where(sa.or_(*clauses)).order_by(*keys)))


def _membership(user: User) -> dict | None:
    org = user.organisation
    if org is None:
        return None
    return {"organisation_id": org.id, "name": org.name, "kind": _value(org.kind), "slug": org.slug,
            "role_in_organisation": _value(user.org_role),
            "contact_email_is_yours": org.contact_email is not None and org.contact_email == user.email}


def export(user: User) -> dict:
    """Everything the platform holds about `user`, as JSON-ready data (the export is audited).

    Only the person's own rows, found through the columns that name them, with the columns
    `SECTIONS` declares: nothing another organisation wrote or owns.
    """
    audit.record(user, "account.export", user)
    db.session.flush()
    data: dict = {"format": EXPORT_FORMAT, "exported_at": datetime.now(UTC).isoformat(),
                  "account": _row(ACCOUNT, user, user), "membership": _membership(user)}
    for section in SECTIONS[1:]:
        data[section.key] = [_row(section, row, user) for row in _rows(section, user)]
    db.session.commit()
    logger.info("account.export user=%s", user.id)
    return data


def export_filename(user: User) -> str:
    return f"proeftuin-export-{user.id}-{datetime.now(UTC):%Y%m%d}.json"


# ---- deletion ------------------------------------------------------------------------------

DELETED_SUBJECT = _l("Your Proeftuin account is deleted")
DELETED_BODY = _l(
    "Hello,\n\nYour Proeftuin account is deleted, as you asked. Your name and e-mail address are "
    "erased, your notifications and expertise profile are removed, and you can no longer log in.\n\n"
    "What you wrote for your organisation (challenges, applications, messages) stays with the "
    "organisation, shown as \u201cDeleted user\u201d. The audit log keeps its rows without your name.\n\n"
    "Questions? Write to the support point: %(support)s\n"
)


def other_members(user: User) -> list[User]:
    """The other active members of the person's organisation (pending requesters not counted)."""
    if user.organisation_id is None:
        return []
    return list(db.session.scalars(sa.select(User).where(
        User.organisation_id == user.organisation_id, User.id != user.id, User.active.is_(True),
        User.deleted_at.is_(None), User.org_role.is_not(None))))


def deletion_blocker(user: User) -> str | None:
    """Why the account cannot be deleted now (a translated sentence), or None."""
    if user.role == Role.ADMIN:
        admins = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.id != user.id, User.active.is_(True), User.deleted_at.is_(None)))
        if not admins:
            return str(_l("You are the platform's only administrator. Make another administrator first."))
    if user.org_role == OrgRole.ADMIN:
        others = other_members(user)
        if others and not any(member.org_role == OrgRole.ADMIN for member in others):
            return str(_l("You are the last admin of %(organisation)s. Make a colleague admin on the "
                          "organisation's page first, then delete your account.",
                          organisation=user.organisation.name))
    return None


def _scrub(value: object, secrets: set[str]) -> object:
    if isinstance(value, str):
        return "[deleted]" if value in secrets else value
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    return value


def _forget_mail_to(addresses: set[str]) -> int:
    """Delete outbox mail addressed to the person (sent or not)."""
    query = sa.select(OutboxEffect).where(OutboxEffect.kind == "mail")
    if all(a.isascii() for a in addresses):
        text = sa.cast(OutboxEffect.payload, sa.Text)
        query = query.where(sa.or_(*[text.contains(a, autoescape=True) for a in addresses]))
    rows = [row for row in db.session.scalars(query) if (row.payload or {}).get("to") in addresses]
    for row in rows:
        db.session.delete(row)
    return len(rows)


def delete_account(user: User, password: str) -> None:
    """Erase the person's personal data and end every session; keep what belongs to others.

    - the account: name "Deleted user", e-mail ``deleted-<id>@invalid``, an unusable password, no
      pending address, no last log-in, inactive, `deleted_at` set, sessions ended (version bump),
      and no membership any more (the organisation itself stays, with its content);
    - removed: notifications, join requests, the expertise profile (and its vectors, through the
      outbox: the index drops it), mail to the person in the outbox;
    - anonymised: the address on invitations they accepted, the organisation's contact address when
      it was theirs, and their name or address wherever an audit row's detail holds it;
    - kept: the audit rows (their actor stays the anonymised account) and what they wrote for an
      organisation (challenges, applications, questions, messages, experiments).

    Raises:
        InvalidInput: the password is not correct (field ``password``).
        Conflict: the person is the last admin of an organisation with other members, or the
            platform's only administrator.
    """
    if not verify_password(user.password_hash, password or ""):
        raise InvalidInput(str(_l("The password is not correct.")), "password")
    blocker = deletion_blocker(user)
    if blocker:
        raise Conflict(blocker)
    old_email, old_name, locale = user.email, user.name, user.locale
    addresses = {a for a in (user.email, user.pending_email) if a}
    placeholder = f"deleted-{user.id}@invalid"
    org = user.organisation
    audit.record(user, "account.delete", user, organisation_kept=org.id if org else None)

    for row in db.session.scalars(sa.select(AuditEvent).where(sa.or_(
            AuditEvent.actor_id == user.id,
            sa.and_(AuditEvent.object_type == "User", AuditEvent.object_id == user.id)))):
        scrubbed = _scrub(row.detail or {}, addresses | {old_name})
        if scrubbed != row.detail:
            row.detail = scrubbed
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(sa.delete(JoinRequest).where(JoinRequest.user_id == user.id))
    db.session.execute(sa.update(Invitation).where(Invitation.accepted_by_id == user.id)
                       .values(email=placeholder).execution_options(synchronize_session=False))
    profile = db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == user.id))
    if profile is not None:
        outbox.record("index.sync", {"kind": EXPERT, "id": profile.id})
        db.session.delete(profile)
    if org is not None and org.contact_email in addresses:
        org.contact_email = None
        audit.record(user, "organisation.contact_email_cleared", org, reason="account.delete")
    forgotten = _forget_mail_to(addresses)

    user.name = DELETED_NAME
    user.email = placeholder
    user.pending_email = None
    user.password_hash = UNUSABLE_PASSWORD
    user.last_login_at = None
    user.active = False
    user.deleted_at = datetime.now(UTC)
    user.session_version += 1
    user.organisation = None
    user.org_role = None
    with force_locale(locale or "nl"):
        try:
            queue_mail(old_email, str(DELETED_SUBJECT),
                       str(DELETED_BODY) % {"support": current_app.config["SUPPORT_EMAIL"]})
        except InvalidRecipient:
            logger.warning("account.delete: user %s had an address that cannot be mailed", user.id)
    db.session.commit()
    logger.info("account.delete user=%s mails_forgotten=%d", user.id, forgotten)
