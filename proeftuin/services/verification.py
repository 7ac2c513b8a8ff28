"""Verification of organisations by the support point: the queue, the domain check, decisions.

An unverified municipality may write drafts and use the guidance, but nothing it writes is public
(`challenges.can_view`, `challenges.browse_query`) or reaches start-ups (suggestions, notifications).
An unverified start-up may keep a profile and apply; others see a "not yet verified" mark and the
support point cannot introduce it (`review.decide`).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ChallengeStatus, OrgKind
from proeftuin.extensions import db
from proeftuin.links import public_url
from proeftuin.models import Challenge, Organisation, User
from proeftuin.policy import is_staff
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, NotFound, audit, outbox
from proeftuin.services.accounts import slugify
from proeftuin.services.listing import like_pattern, one_of

logger = logging.getLogger(__name__)

# The kinds the support point verifies (its own organisation is verified at creation).
VERIFIABLE_KINDS = (OrgKind.MUNICIPALITY, OrgKind.STARTUP)
STATES = ("pending", "verified", "rejected")
REASON_MAX = 1000

VERIFIED_SUBJECT = _l("Your organisation is verified on Proeftuin")
VERIFIED_BODY = _l(
    "Hello %(name)s,\n\nThe support point verified %(organisation)s. "
    "What your organisation publishes is now visible on Proeftuin.\n\n%(link)s\n"
)
REJECTED_SUBJECT = _l("Your organisation was not verified on Proeftuin")
REJECTED_BODY = _l(
    "Hello %(name)s,\n\nThe support point did not verify %(organisation)s, for this reason:\n\n"
    "%(reason)s\n\nUntil it is verified, your challenges are not public and start-ups cannot be "
    "introduced to you. Reply to this message if you think this is a mistake.\n\n%(link)s\n"
)
REVOKED_SUBJECT = _l("The verification of your organisation on Proeftuin was withdrawn")
REVOKED_BODY = _l(
    "Hello %(name)s,\n\nThe support point withdrew the verification of %(organisation)s, for this "
    "reason:\n\n%(reason)s\n\nUntil it is verified again, your challenges are not public and "
    "start-ups cannot be introduced to you. Reply to this message if you think this is a mistake.\n\n"
    "%(link)s\n"
)


# ---- the domain check ----------------------------------------------------------------------

@dataclass(frozen=True)
class DomainCheck:
    """Whether the registrant's e-mail domain belongs to the organisation, and why."""

    domain: str
    matches: bool
    reason: str  # "website", "municipality_name", "no_match" or "no_email"


def _host(website: str | None) -> str | None:
    if not website:
        return None
    parts = urlsplit(website.strip() if "//" in website else "//" + website.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None


def _name_slugs(org: Organisation) -> set[str]:
    names = [org.name]
    if org.municipality is not None:
        names += [org.municipality.name_nl, org.municipality.name_fr or ""]
    slugs = set()
    for name in filter(None, names):
        slug = slugify(name)
        if slug != "org":
            slugs.update({slug, slug.replace("-", "")})
    return slugs


def domain_check(email: str | None, org: Organisation) -> DomainCheck:
    """Does the e-mail address look like it belongs to this organisation?

    The rule (a hint for the person verifying, never a decision on its own):

    1. The e-mail's domain is the host of the organisation's website (without ``www.``) or a
       subdomain of it: website ``https://www.gent.be`` matches ``@gent.be`` and ``@stad.gent.be``.
    2. For a municipality, one of the domain's labels is the municipality's name as a slug, in
       Dutch or French, with or without hyphens: Gent matches ``@gent.be`` and ``@stad.gent``,
       Sint-Niklaas ``@sint-niklaas.be``, Elsene/Ixelles ``@ixelles.brussels``. Whole labels only,
       so ``@agentmail.com`` does not match Gent.

    Free mail providers therefore never match. The check reads the address as typed; it does not
    prove the registrant controls the mailbox.

    Args:
        email: the registrant's e-mail address (None when the organisation has no member).
        org: the organisation.

    Returns:
        A `DomainCheck` with the domain, whether it matches and which rule matched.
    """
    if not email or "@" not in email:
        return DomainCheck("", False, "no_email")
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    host = _host(org.website)
    if host and (domain == host or domain.endswith("." + host)):
        return DomainCheck(domain, True, "website")
    if org.kind == OrgKind.MUNICIPALITY:
        labels = set(domain.split("."))
        if labels & _name_slugs(org):
            return DomainCheck(domain, True, "municipality_name")
    return DomainCheck(domain, False, "no_match")


# ---- the queue -----------------------------------------------------------------------------

@dataclass
class QueueFilters:
    kind: str | None = None
    state: str = "pending"
    q: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        """Read the filters from a query string; unknown values raise InvalidInput (400)."""
        return cls(
            kind=one_of(args, "kind", {k.value for k in VERIFIABLE_KINDS}),
            state=one_of(args, "state", {*STATES, "all"}) or "pending",
            q=args.get("q", "").strip()[:200] or None,
        )


def queue_query(filters: QueueFilters) -> sa.Select:
    """Organisations to verify (or verified, or rejected), oldest registration first when pending."""
    stmt = sa.select(Organisation).where(Organisation.kind.in_(VERIFIABLE_KINDS))
    if filters.kind:
        stmt = stmt.where(Organisation.kind == OrgKind(filters.kind))
    if filters.state == "pending":
        stmt = stmt.where(Organisation.verified_at.is_(None), Organisation.rejected_at.is_(None))
    elif filters.state == "verified":
        stmt = stmt.where(Organisation.verified_at.is_not(None))
    elif filters.state == "rejected":
        stmt = stmt.where(Organisation.verified_at.is_(None), Organisation.rejected_at.is_not(None))
    if filters.q:
        pattern = like_pattern(filters.q)
        member = sa.select(User.id).where(
            User.organisation_id == Organisation.id,
            sa.or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\")),
        )
        stmt = stmt.where(sa.or_(Organisation.name.ilike(pattern, escape="\\"), member.exists()))
    if filters.state == "pending":
        return stmt.order_by(Organisation.created_at, Organisation.id)
    return stmt.order_by(Organisation.created_at.desc(), Organisation.id.desc())


@dataclass
class QueueRow:
    organisation: Organisation
    registrant: User | None
    check: DomainCheck


def registrant_of(org: Organisation) -> User | None:
    """The organisation's first member: the person who registered it."""
    return db.session.scalar(
        sa.select(User).where(User.organisation_id == org.id).order_by(User.created_at, User.id).limit(1)
    )


def queue_rows(organisations: Sequence[Organisation]) -> list[QueueRow]:
    """The page's organisations with their registrant and domain check (one query for the members)."""
    ids = [o.id for o in organisations]
    first: dict[int, User] = {}
    if ids:
        members = db.session.scalars(
            sa.select(User).where(User.organisation_id.in_(ids)).order_by(User.created_at, User.id)
        )
        for user in members:
            first.setdefault(user.organisation_id, user)
    rows = []
    for org in organisations:
        registrant = first.get(org.id)
        rows.append(QueueRow(org, registrant, domain_check(registrant.email if registrant else None, org)))
    return rows


def pending_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(queue_query(QueueFilters()).order_by(None).subquery())
    ) or 0


# ---- decisions -----------------------------------------------------------------------------

def _get_verifiable(actor: User, organisation_id: int) -> Organisation:
    if not is_staff(actor):
        raise Forbidden()
    org = db.session.get(Organisation, organisation_id)
    if org is None or org.kind not in VERIFIABLE_KINDS:
        raise NotFound()
    return org


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(str(_l("Give the reason; it is sent to the person who registered.")), "reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(str(_l("Keep the reason under 1000 characters.")), "reason")
    return reason


def _mail_registrant(org: Organisation, subject, body, reason: str | None = None) -> None:
    """Queue a mail to the registrant, in their language, in the decision's transaction."""
    from proeftuin.services.mail import queue_mail

    user = registrant_of(org)
    if user is None or not user.active:
        return
    with force_locale(user.locale or "nl"):
        params = {"name": user.name, "organisation": org.name, "reason": reason or "",
                  "link": public_url("auth.account")}
        queue_mail(user.email, str(subject) % params, str(body) % params)


def _publish_challenges(org: Organisation) -> None:
    """A municipality became verified: its published challenges get their suggestions now."""
    if org.kind != OrgKind.MUNICIPALITY:
        return
    published = db.session.scalars(
        sa.select(Challenge).where(Challenge.organisation_id == org.id,
                                   Challenge.status == ChallengeStatus.PUBLISHED)
    ).all()
    for challenge in published:
        outbox.record("challenge.changed", {"id": challenge.id})


def verify(actor: User, organisation_id: int) -> Organisation:
    """Verify an organisation (pending or rejected); verifying a verified one changes nothing.

    Raises:
        Forbidden: the actor is not a facilitator or admin.
        NotFound: no such organisation, or one the support point does not verify.
    """
    org = _get_verifiable(actor, organisation_id)
    if org.verified_at is not None:
        return org
    org.verified_at = datetime.now(UTC)
    org.rejected_at = None
    org.rejection_reason = None
    audit.record(actor, "organisation.verify", org, kind=org.kind.value)
    _mail_registrant(org, VERIFIED_SUBJECT, VERIFIED_BODY)
    _publish_challenges(org)
    db.session.commit()
    return org


def reject(actor: User, organisation_id: int, reason: str | None) -> Organisation:
    """Refuse to verify a pending (or already rejected) organisation; the registrant gets the reason.

    Raises:
        Forbidden: the actor is not a facilitator or admin.
        NotFound: no such organisation.
        InvalidInput: no reason given.
        InvalidTransition: the organisation is verified (withdraw the verification instead).
    """
    org = _get_verifiable(actor, organisation_id)
    reason = _clean_reason(reason)
    if org.verified_at is not None:
        raise InvalidTransition(str(_l("This organisation is verified; withdraw the verification instead.")))
    return _refuse(actor, org, reason, "organisation.reject", REJECTED_SUBJECT, REJECTED_BODY)


def revoke(actor: User, organisation_id: int, reason: str | None) -> Organisation:
    """Withdraw a verification: the organisation is unverified again and its members see the reason.

    Raises:
        Forbidden: the actor is not a facilitator or admin.
        NotFound: no such organisation.
        InvalidInput: no reason given.
        InvalidTransition: the organisation is not verified.
    """
    org = _get_verifiable(actor, organisation_id)
    reason = _clean_reason(reason)
    if org.verified_at is None:
        raise InvalidTransition(str(_l("This organisation is not verified.")))
    org.verified_at = None
    return _refuse(actor, org, reason, "organisation.revoke", REVOKED_SUBJECT, REVOKED_BODY)


def _refuse(actor: User, org: Organisation, reason: str, action: str, subject, body) -> Organisation:
    """Record a refusal (reject or revoke) with its reason, audit it, mail the registrant, commit."""
    org.rejected_at = datetime.now(UTC)
    org.rejection_reason = reason
    audit.record(actor, action, org, kind=org.kind.value, reason=reason)
    _mail_registrant(org, subject, body, reason)
    db.session.commit()
    return org
