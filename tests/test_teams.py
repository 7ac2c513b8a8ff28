"""Organisations as teams (issue 10): invitations, join requests, roles, the last admin, removal.

Gent (muniA in the world) gets a member, a viewer, a former member and someone whose join request
waits; the team matrix at the end walks the organisation routes and Gent's draft and edit routes for
each of them (the admins of every organisation are in tests/policy_organisation.py).
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

import tests.test_access_matrix  # noqa: F401  (imports the policy_* modules; before tests.policy_organisation)
from proeftuin.enums import JoinRequestStatus, OrgKind, OrgRole, Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Invitation, JoinRequest, Organisation, User
from proeftuin.services import Conflict, NotFound, teams
from tests.conftest import PASSWORD, link_in, login, make_user, outbox_messages

NEW_PASSWORD = "another long enough passphrase"


def mails_to(app, email: str) -> list[str]:
    return [m for m in outbox_messages(app) if f"To: {email}" in m]


def unfolded(message: str) -> str:
    return message.replace("=\n", "")


def english(app):
    """A client whose browser asks for English (the users of the `team` fixture read English too)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def signed_in(app, email: str, remember: bool = False):
    client = english(app)
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302 and "/auth/login" not in response.location, email
    return client


def user(app, email: str) -> User:
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.expunge_all()
        return found


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def team(app, world):
    """Gent's colleagues: a member, a viewer, a former member and a pending requester."""
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        extra = {
            "member": make_user("member@gent.example", Role.MUNICIPALITY, gent, OrgRole.MEMBER),
            "viewer": make_user("viewer@gent.example", Role.MUNICIPALITY, gent, OrgRole.VIEWER),
            "former": make_user("former@gent.example", Role.MUNICIPALITY),
            "pending": make_user("pending@gent.example", Role.MUNICIPALITY),
        }
        db.session.add(JoinRequest(organisation_id=gent.id, user_id=extra["pending"].id))
        for row in [*extra.values(), *db.session.scalars(sa.select(User))]:
            row.locale = "en"
        db.session.commit()
        for key, row in extra.items():
            world.ids[key] = row.id
            world.emails[key] = row.email
    return world


def invite(client, email: str, role: str = "member"):
    return client.post("/organisation/invitations", data={"email": email, "role": role})


# ---- invitations -----------------------------------------------------------------------------

def test_an_invitation_is_mailed_with_its_expiry_and_only_its_hash_is_stored(app, team):
    admin = signed_in(app, team.emails["muniA"])
    assert invite(admin, "New.Colleague@Gent.example ").status_code == 302
    mails = mails_to(app, "new.colleague@gent.example")
    assert len(mails) == 1
    path = link_in(mails[0], "/organisation/invitations/")
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        invitation = db.session.scalar(sa.select(Invitation))
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert invitation.role == OrgRole.MEMBER and invitation.email == "new.colleague@gent.example"
        expires = invitation.expires_at
        assert timedelta(days=6, hours=23) < expires.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(days=7)
        stored = " ".join(str(v) for v in db.session.execute(sa.select(Invitation.__table__)).one())
        assert token not in stored
    body = unfolded(mails[0])
    assert "munia invites you to join Gent" in body and str(expires.year) in body and "works once, until" in body
    assert "organisation.invite" in audit_actions(app)
    page = admin.get("/organisation/").get_data(as_text=True)
    assert "new.colleague@gent.example" in page and "Pending invitations" in page


def test_an_invitation_is_refused_for_a_member_a_duplicate_and_a_bad_address(app, team):
    admin = signed_in(app, team.emails["muniA"])
    member = invite(admin, team.emails["member"])
    assert member.status_code == 400 and "already a member" in member.get_data(as_text=True)
    assert invite(admin, "twice@gent.example").status_code == 302
    again = invite(admin, "twice@gent.example")
    assert again.status_code == 400 and "pending invitation" in again.get_data(as_text=True)
    bad = invite(admin, "not an address")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'value="not an address"' in body  # the form keeps what was typed
    assert len(mails_to(app, "twice@gent.example")) == 1


def test_accepting_creates_the_account_once_and_the_colleague_sees_gents_drafts(app, team):
    admin = signed_in(app, team.emails["muniA"])
    invite(admin, "ann@gent.example")
    path = link_in(mails_to(app, "ann@gent.example")[0], "/organisation/invitations/")
    visitor = english(app)
    page = visitor.get(path)
    assert page.status_code == 200 and "Choose your name and password" in page.get_data(as_text=True)
    short = visitor.post(path, data={"name": "Ann", "password": "short", "password_repeat": "short"})
    assert short.status_code == 200 and 'value="Ann"' in short.get_data(as_text=True)
    done = visitor.post(path, data={"name": "Ann Peeters", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert done.status_code == 302 and "/auth/login" in done.location
    ann = user(app, "ann@gent.example")
    assert ann.organisation_id == team.ids["org_muniA"] and ann.org_role == OrgRole.MEMBER
    assert ann.role == Role.MUNICIPALITY
    # single use: the link is dead now, for everyone
    reuse = english(app).post(path, data={"name": "Eve", "password": NEW_PASSWORD,
                                               "password_repeat": NEW_PASSWORD})
    assert reuse.status_code == 302 and user(app, "ann@gent.example").name == "Ann Peeters"
    assert english(app).get(path).status_code == 302
    colleague = english(app)
    login(colleague, "ann@gent.example", NEW_PASSWORD)
    assert team.markers["draft"] in colleague.get(f"/challenges/{team.ids['draft']}").get_data(as_text=True)
    assert team.markers["draft"] in colleague.get("/challenges/mine").get_data(as_text=True)
    assert "organisation.invitation_accept" in audit_actions(app)
    assert any("Ann Peeters accepted your invitation" in unfolded(m) for m in mails_to(app, team.emails["muniA"]))


def test_an_expired_invitation_is_refused(app, team):
    with app.test_request_context():
        admin = db.session.get(User, team.ids["muniA"])
        issued = teams.invite(admin, "late@gent.example", OrgRole.MEMBER)
        issued.invitation.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
        with pytest.raises(NotFound):
            teams.accept_as_new(issued.token, "Late", NEW_PASSWORD)
        db.session.rollback()
    page = english(app).get(f"/organisation/invitations/{issued.token}", follow_redirects=True)
    assert "invalid, has expired or was already used" in page.get_data(as_text=True)
    assert user(app, "late@gent.example") is None
    listing = signed_in(app, team.emails["muniA"]).get("/organisation/").get_data(as_text=True)
    assert "late@gent.example" in listing and "expired" in listing  # shown, so it can be sent again


def test_a_revoked_invitation_is_dead(app, team):
    admin = signed_in(app, team.emails["muniA"])
    invite(admin, "gone@gent.example")
    path = link_in(mails_to(app, "gone@gent.example")[0], "/organisation/invitations/")
    with app.app_context():
        invitation_id = db.session.scalar(sa.select(Invitation.id))
    assert admin.post(f"/organisation/invitations/{invitation_id}/revoke").status_code == 302
    refused = english(app).post(path, data={"name": "G", "password": NEW_PASSWORD,
                                                 "password_repeat": NEW_PASSWORD})
    assert refused.status_code == 302 and user(app, "gone@gent.example") is None
    assert "<td>gone@gent.example</td>" not in admin.get("/organisation/").get_data(as_text=True)
    assert admin.post(f"/organisation/invitations/{invitation_id}/resend").status_code == 302  # Conflict: flashed
    assert len(mails_to(app, "gone@gent.example")) == 1
    assert "organisation.invitation_revoke" in audit_actions(app)


def test_resending_issues_a_new_token_and_kills_the_old_link(app, team):
    admin = signed_in(app, team.emails["muniA"])
    invite(admin, "again@gent.example", "viewer")
    old_path = link_in(mails_to(app, "again@gent.example")[0], "/organisation/invitations/")
    with app.app_context():
        invitation = db.session.scalar(sa.select(Invitation))
        invitation.expires_at = datetime.now(UTC) - timedelta(days=1)  # expired: re-sending renews it
        db.session.commit()
        invitation_id = invitation.id
    assert admin.post(f"/organisation/invitations/{invitation_id}/resend").status_code == 302
    mails = mails_to(app, "again@gent.example")
    assert len(mails) == 2
    paths = {link_in(m, "/organisation/invitations/") for m in mails}
    assert len(paths) == 2 and old_path in paths
    (new_path,) = paths - {old_path}
    assert english(app).get(old_path).status_code == 302
    visitor = english(app)
    assert visitor.get(new_path).status_code == 200
    visitor.post(new_path, data={"name": "Again", "password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert user(app, "again@gent.example").org_role == OrgRole.VIEWER
    assert "organisation.invitation_resend" in audit_actions(app)


def test_an_existing_user_of_no_organisation_joins_and_no_one_else_can(app, team):
    admin = signed_in(app, team.emails["muniA"])
    invite(admin, team.emails["former"])
    path = link_in(mails_to(app, team.emails["former"])[-1], "/organisation/invitations/")
    anonymous = english(app).get(path).get_data(as_text=True)
    assert "Log in to join" in anonymous and "Choose your name" not in anonymous
    other = signed_in(app, team.emails["muniB"])
    assert "for another e-mail address" in other.get(path).get_data(as_text=True)
    assert other.post(path).status_code == 403
    assert user(app, team.emails["muniB"]).organisation_id != team.ids["org_muniA"]
    former = signed_in(app, team.emails["former"])
    assert former.get(f"/challenges/{team.ids['draft']}").status_code == 404
    assert former.post(path).status_code == 302
    joined = user(app, team.emails["former"])
    assert joined.organisation_id == team.ids["org_muniA"] and joined.org_role == OrgRole.MEMBER
    assert former.get(f"/challenges/{team.ids['draft']}").status_code == 200


# ---- join requests ---------------------------------------------------------------------------

def register_for_gent(client, email: str, join: bool = True):
    data = {"kind": "municipality", "municipality": "44021", "name": "Jo Janssens", "email": email,
            "password": PASSWORD, "password_repeat": PASSWORD, "join_message": "I work at mobility."}
    if join:
        data["join"] = "y"
    return client.post("/auth/register", data=data)


def test_registering_for_an_existing_municipality_without_asking_is_still_refused(app, team):
    response = register_for_gent(english(app), "jo@gent.example", join=False)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ask a colleague to invite you" in body
    assert user(app, "jo@gent.example") is None


def test_a_join_request_is_approved_by_an_admin(app, team):
    assert register_for_gent(english(app), "jo@gent.example").status_code == 302
    jo = user(app, "jo@gent.example")
    assert jo.organisation_id is None and jo.org_role is None and jo.role == Role.MUNICIPALITY
    with app.app_context():
        request_row = db.session.scalar(sa.select(JoinRequest).where(JoinRequest.user_id == jo.id))
        assert request_row.status == JoinRequestStatus.PENDING and request_row.message == "I work at mobility."
        request_id = request_row.id
    to_admin = mails_to(app, team.emails["muniA"])
    assert any("Jo Janssens (jo@gent.example) registered" in unfolded(m) for m in to_admin)
    assert not mails_to(app, team.emails["member"])  # only admins are asked
    assert any("was sent to its admins" in unfolded(m) for m in mails_to(app, "jo@gent.example"))
    waiting = signed_in(app, "jo@gent.example")
    assert waiting.get(f"/challenges/{team.ids['draft']}").status_code == 404
    assert team.markers["draft"] not in waiting.get("/challenges/mine").get_data(as_text=True)
    assert "waits for an admin" in waiting.get("/organisation/").get_data(as_text=True)

    member = signed_in(app, team.emails["member"])
    assert member.post(f"/organisation/join-requests/{request_id}/decision",
                       data={"decision": "approve"}).status_code == 403
    admin = signed_in(app, team.emails["muniA"])
    assert "Jo Janssens" in admin.get("/organisation/").get_data(as_text=True)
    assert admin.post(f"/organisation/join-requests/{request_id}/decision",
                      data={"decision": "approve"}).status_code == 302
    jo = user(app, "jo@gent.example")
    assert jo.organisation_id == team.ids["org_muniA"] and jo.org_role == OrgRole.MEMBER
    assert any("approved your request" in unfolded(m) for m in mails_to(app, "jo@gent.example"))
    assert waiting.get(f"/challenges/{team.ids['draft']}").status_code == 200
    assert "organisation.join_approve" in audit_actions(app)
    with app.test_request_context():
        actor = db.session.get(User, team.ids["muniA"])
        with pytest.raises(Conflict):
            teams.decide_join_request(actor, request_id, approve=False)


def test_a_join_request_is_refused_and_the_requester_sees_nothing(app, team):
    register_for_gent(english(app), "jo@gent.example")
    with app.app_context():
        request_id = db.session.scalar(sa.select(JoinRequest.id).order_by(JoinRequest.id.desc()))
    other_admin = signed_in(app, team.emails["muniB"])
    assert other_admin.post(f"/organisation/join-requests/{request_id}/decision",
                            data={"decision": "approve"}).status_code == 404
    admin = signed_in(app, team.emails["muniA"])
    assert admin.post(f"/organisation/join-requests/{request_id}/decision",
                      data={"decision": "refuse"}).status_code == 302
    jo = user(app, "jo@gent.example")
    assert jo.organisation_id is None
    assert any("refused your request" in unfolded(m) for m in mails_to(app, "jo@gent.example"))
    with app.app_context():
        assert db.session.get(JoinRequest, request_id).status == JoinRequestStatus.REFUSED
    assert signed_in(app, "jo@gent.example").get(f"/challenges/{team.ids['draft']}").status_code == 404
    assert "organisation.join_refuse" in audit_actions(app)


def test_a_startup_registered_under_the_same_name_can_be_asked(app, team):
    data = {"kind": "startup", "organisation_name": "startup  a", "region": "antwerpen", "name": "Kim",
            "email": "kim@startup-a.example", "password": PASSWORD, "password_repeat": PASSWORD, "join": "y"}
    assert english(app).post("/auth/register", data=data).status_code == 302
    kim = user(app, "kim@startup-a.example")
    assert kim.organisation_id is None and kim.role == Role.STARTUP
    with app.app_context():
        assert db.session.scalar(sa.select(JoinRequest.organisation_id).where(
            JoinRequest.user_id == kim.id)) == team.ids["org_suA"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.kind == OrgKind.STARTUP)) == 2


# ---- roles, the last admin, removal --------------------------------------------------------

def test_the_last_admin_cannot_leave_be_demoted_or_removed(app, team):
    admin = signed_in(app, team.emails["muniA"])
    admin_id = team.ids["muniA"]
    left = admin.post("/organisation/leave", follow_redirects=True)
    assert "You are the last admin" in left.get_data(as_text=True)
    demoted = admin.post(f"/organisation/members/{admin_id}/role", data={"role": "member"}, follow_redirects=True)
    assert "at least one admin" in demoted.get_data(as_text=True)
    removed = admin.post(f"/organisation/members/{admin_id}/remove", follow_redirects=True)
    assert "Leave the organisation" in removed.get_data(as_text=True)
    assert user(app, team.emails["muniA"]).org_role == OrgRole.ADMIN
    # hand over: make the member admin, then the first admin can step down
    assert admin.post(f"/organisation/members/{team.ids['member']}/role", data={"role": "admin"}).status_code == 302
    assert admin.post(f"/organisation/members/{admin_id}/role", data={"role": "member"}).status_code == 302
    assert user(app, team.emails["muniA"]).org_role == OrgRole.MEMBER
    new_admin = signed_in(app, team.emails["member"])
    last = new_admin.post(f"/organisation/members/{team.ids['member']}/role", data={"role": "viewer"},
                          follow_redirects=True)
    assert "at least one admin" in last.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.organisation_id == team.ids["org_muniA"], User.org_role == OrgRole.ADMIN)) == 1


def test_a_role_change_is_audited_and_mailed(app, team):
    admin = signed_in(app, team.emails["muniA"])
    assert admin.post(f"/organisation/members/{team.ids['viewer']}/role", data={"role": "member"}).status_code == 302
    assert user(app, team.emails["viewer"]).org_role == OrgRole.MEMBER
    mail = unfolded(mails_to(app, team.emails["viewer"])[-1])
    assert "changed your role in Gent from Read-only colleague to Member" in mail
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organisation.role_change"))
        assert event.object_id == team.ids["viewer"] and event.detail == {"old": "viewer", "new": "member"}
    assert admin.post(f"/organisation/members/{team.ids['viewer']}/role", data={"role": "owner"}).status_code == 302
    assert user(app, team.emails["viewer"]).org_role == OrgRole.MEMBER


def _cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def test_a_removed_members_copied_cookies_are_refused_at_once(app, team):
    """SECURITY.md T11 for teams: removal bumps session_version, so session and remember-me die."""
    member = signed_in(app, team.emails["member"], remember=True)
    stolen = _cookies(member)
    assert "remember_token" in stolen and "session" in stolen
    assert member.get(f"/challenges/{team.ids['draft']}").status_code == 200
    admin = signed_in(app, team.emails["muniA"])
    assert admin.post(f"/organisation/members/{team.ids['member']}/remove").status_code == 302
    refused = member.get(f"/challenges/{team.ids['draft']}")
    assert refused.status_code == 404  # no session any more: an anonymous visitor, a draft is not public
    account = member.get("/auth/account")
    assert account.status_code == 302 and "/auth/login" in account.location
    for name in ("session", "remember_token"):
        thief = english(app)
        thief.set_cookie(name, stolen[name])
        replay = thief.get("/auth/account")
        assert replay.status_code == 302 and "/auth/login" in replay.location, name
    gone = user(app, team.emails["member"])
    assert gone.organisation_id is None and gone.org_role is None
    assert any("removed you from Gent" in unfolded(m) for m in mails_to(app, team.emails["member"]))
    # logging in again works, but the former member sees nothing of Gent
    again = signed_in(app, team.emails["member"])
    assert again.get(f"/challenges/{team.ids['draft']}").status_code == 404
    assert team.markers["draft"] not in again.get("/challenges/mine").get_data(as_text=True)
    assert "organisation.member_remove" in audit_actions(app)


def test_leaving_ends_the_sessions_and_is_mailed(app, team):
    viewer = signed_in(app, team.emails["viewer"])
    stolen = _cookies(viewer)
    response = viewer.post("/organisation/leave")
    assert response.status_code == 302 and "/auth/login" in response.location
    thief = english(app)
    thief.set_cookie("session", stolen["session"])
    assert thief.get("/auth/account").status_code == 302
    assert user(app, team.emails["viewer"]).organisation_id is None
    assert any("You left Gent" in unfolded(m) for m in mails_to(app, team.emails["viewer"]))
    assert "organisation.leave" in audit_actions(app)


# ---- viewers read, and change nothing -----------------------------------------------------

def test_a_viewer_reads_gents_pages_but_changes_nothing(app, team):
    viewer = signed_in(app, team.emails["viewer"])
    draft = team.ids["draft"]
    page = viewer.get(f"/challenges/{draft}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and team.markers["draft"] in body
    assert f"/challenges/{draft}/edit" not in body and 'name="action" value="publish"' not in body
    assert team.markers["draft"] in viewer.get("/challenges/mine").get_data(as_text=True)
    assert viewer.get(f"/challenges/{team.ids['published']}/applications").status_code == 200
    assert team.markers["application"] in viewer.get(f"/applications/{team.ids['application']}").get_data(as_text=True)
    assert viewer.get(f"/challenges/{draft}/edit").status_code == 403
    assert viewer.post(f"/challenges/{draft}/edit", data={"title": "Changed"}).status_code == 403
    assert viewer.post(f"/challenges/{draft}/status", data={"action": "publish"}).status_code == 403
    assert viewer.post("/challenges/new", data={"title": "New"}).status_code == 403
    assert viewer.post(f"/applications/{team.ids['application']}/decision",
                       data={"decision": "shortlist"}).status_code == 403
    invitation = {"email": "x@gent.example", "role": "admin"}
    assert viewer.post("/organisation/invitations", data=invitation).status_code == 403
    member = signed_in(app, team.emails["member"])
    assert member.get(f"/challenges/{draft}/edit").status_code == 200
    assert member.post(f"/challenges/{draft}/status", data={"action": "publish"}).status_code == 302
    with app.app_context():
        from proeftuin.models import Challenge
        assert db.session.get(Challenge, draft).status.value == "published"


def test_the_services_refuse_a_viewer_too(app, team):
    """The service layer answers alone, without the request guard of the organisation blueprint."""
    from proeftuin.services import Forbidden
    from proeftuin.services import applications as application_service
    from proeftuin.services import challenges as challenge_service

    with app.test_request_context():
        viewer = db.session.get(User, team.ids["viewer"])
        with pytest.raises(Forbidden):
            challenge_service.get_changeable(viewer, team.ids["draft"])
        with pytest.raises(Forbidden):
            challenge_service.transition(viewer, team.ids["draft"], "publish")
        with pytest.raises(Forbidden):
            application_service.decide(viewer, team.ids["application"], "shortlist", None)
        with pytest.raises(Forbidden):
            teams.invite(viewer, "x@gent.example", OrgRole.MEMBER)
        assert challenge_service.get_owned(viewer, team.ids["draft"]).id == team.ids["draft"]


# ---- the team matrix -----------------------------------------------------------------------

TEAM_PRINCIPALS = ("gentAdmin", "member", "viewer", "former", "pending", "leuvenAdmin")
LOGIN_OF = {"gentAdmin": "muniA", "leuvenAdmin": "muniB"}


def expect(**by_principal: int) -> dict[str, int]:
    return {p: by_principal.get(p, by_principal.get("default")) for p in TEAM_PRINCIPALS}


NO_TEAM_404 = {"former": 404, "pending": 404, "leuvenAdmin": 404}
# endpoint: (method, url, data, expected status per team principal); run in this order
TEAM_MATRIX = [
    ("organisation.index", "GET", "/organisation/", None, expect(default=200)),
    ("challenges.detail", "GET", "/challenges/{draft}", None, expect(default=200, **NO_TEAM_404)),
    ("challenges.edit", "GET", "/challenges/{draft}/edit", None, expect(default=200, viewer=403, **NO_TEAM_404)),
    ("challenges.applications", "GET", "/challenges/{published}/applications", None,
     expect(default=200, **NO_TEAM_404)),
    ("applications.detail", "GET", "/applications/{application}", None, expect(default=200, **NO_TEAM_404)),
    ("organisation.invite", "POST", "/organisation/invitations", {"email": "colleague@example.org", "role": "member"},
     expect(default=302, member=403, viewer=403, former=404, pending=404)),
    ("organisation.resend", "POST", "/organisation/invitations/{team_invitation}/resend", {},
     expect(gentAdmin=302, member=403, viewer=403, default=404)),
    ("organisation.revoke", "POST", "/organisation/invitations/{team_invitation}/revoke", {},
     expect(gentAdmin=302, member=403, viewer=403, default=404)),
    ("organisation.decide", "POST", "/organisation/join-requests/{team_join_request}/decision",
     {"decision": "refuse"}, expect(gentAdmin=302, member=403, viewer=403, default=404)),
    ("organisation.change_role", "POST", "/organisation/members/{team_member}/role", {"role": "viewer"},
     expect(gentAdmin=302, member=403, viewer=403, default=404)),
    ("organisation.remove", "POST", "/organisation/members/{team_member_2}/remove", {},
     expect(gentAdmin=302, member=403, viewer=403, default=404)),
    ("challenges.change_status", "POST", "/challenges/{draft}/status", {"action": "archive"},
     expect(gentAdmin=302, member=302, viewer=403, default=404)),
]


@pytest.mark.parametrize("principal", TEAM_PRINCIPALS)
def test_team_role_matrix(app, team, principal):
    from tests.policy_organisation import prepare

    with app.app_context():
        values = {**team.ids, **prepare(team)}
    email = team.emails[LOGIN_OF.get(principal, principal)]
    client = signed_in(app, email)
    failures = []
    for endpoint, method, template, data, expected in TEAM_MATRIX:
        url = template.format(**values)
        response = client.open(url, method=method, data=data)
        if response.status_code != expected[principal]:
            failures.append(f"{principal} {endpoint} {method} {url}: {response.status_code}, "
                            f"expected {expected[principal]}")
        if response.status_code in (403, 404) and team.markers["draft"] in response.get_data(as_text=True):
            failures.append(f"{principal} {endpoint}: refusal leaks the draft")
    assert failures == []


@pytest.mark.parametrize("principal", ["former", "pending"])
def test_former_and_pending_members_see_nothing_of_gent_on_any_page(app, team, principal):
    """Every GET route of the access matrix, for someone who left Gent or waits to join it."""
    from tests.test_access_matrix import POLICY, _prepare

    values = _prepare(app, team)
    client = signed_in(app, team.emails[principal])
    secrets = (team.markers["draft"].encode(), team.markers["application"].encode())
    failures = []
    for endpoint, (method, template, _data, _expected) in POLICY.items():
        if method != "GET":
            continue
        url = template.format(**values)
        response = client.get(url)
        body = response.get_data()
        if response.status_code >= 500 or any(s in body for s in secrets):
            failures.append(f"{endpoint} {url}: {response.status_code}")
    assert failures == []


def test_the_guard_leaves_personal_routes_open_to_viewers(app, team):
    viewer = signed_in(app, team.emails["viewer"])
    assert viewer.post("/language", data={"locale": "fr"}).status_code == 302
    assert viewer.post("/notifications/read").status_code == 302
    page = viewer.get("/organisation/")
    assert page.status_code == 200 and 'action="/organisation/leave"' in page.get_data(as_text=True)


def test_mails_are_written_in_the_recipients_language(app, team):
    with app.app_context():
        db.session.get(User, team.ids["viewer"]).locale = "nl"
        db.session.get(User, team.ids["member"]).locale = "fr"
        db.session.commit()
    admin = signed_in(app, team.emails["muniA"])
    admin.post(f"/organisation/members/{team.ids['viewer']}/role", data={"role": "member"})
    admin.post(f"/organisation/members/{team.ids['member']}/remove")
    dutch = unfolded(mails_to(app, team.emails["viewer"])[-1])
    assert "wijzigde je rol in Gent van Collega met leesrechten naar Lid" in dutch
    assert "Subject: Je rol in Gent is gewijzigd" in dutch
    assert any("vous a retir" in unfolded(m) for m in mails_to(app, team.emails["member"]))
