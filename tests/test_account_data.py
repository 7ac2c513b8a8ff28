"""The person's own account: name, language, e-mail and password; the export and the deletion of
the account (SECURITY.md T27); deactivation by an administrator; the retention periods."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from proeftuin.enums import OrgRole, Role
from proeftuin.extensions import db
from proeftuin.models import (
    AuditEvent,
    Challenge,
    Embedding,
    ExpertProfile,
    Notification,
    Organisation,
    OutboxEffect,
    User,
)
from proeftuin.services import account_data, account_settings, matching, retention
from tests.conftest import PASSWORD, login, make_user, outbox_messages

NEW_PASSWORD = "another long passphrase"


def _client(app, email: str, password: str = PASSWORD):
    client = app.test_client()
    assert login(client, email, password).status_code == 302
    client.post("/language", data={"locale": "en"})
    return client


def _mails(app) -> list:
    return [message_from_string(raw, policy=policy.default) for raw in outbox_messages(app)]


def _mails_to(app, address: str) -> list:
    return [m for m in _mails(app) if m["To"] == address]


def _body(message) -> str:
    return message.get_content()


def _local_link(body: str, prefix: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + re.escape(prefix) + r"[^\s]*)", body)
    assert match, f"no link {prefix} in {body!r}"
    return match.group(1)


def _cookies(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


def _replay(app, cookies: dict[str, str]):
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get("/auth/account")


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


# ---- name, language, password ----------------------------------------------------------------

def test_name_and_language_change_and_a_bad_name_keeps_the_form(app, world):
    client = _client(app, world.emails["suA"])
    done = client.post("/auth/account/profile", data={"profile-name": "  Ann   Peeters ", "profile-locale": "fr"})
    assert done.status_code == 302
    with app.app_context():
        user = db.session.get(User, world.ids["suA"])
        assert (user.name, user.locale) == ("Ann Peeters", "fr")
        assert db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "account.profile_update")) \
            == {"fields": ["name", "locale"]}
    assert "Votre compte" in client.get("/auth/account").get_data(as_text=True)  # the site follows
    client.post("/language", data={"locale": "en"})
    page = client.post("/auth/account/profile", data={"profile-name": "x" * 121, "profile-locale": "en"})
    assert page.status_code == 200
    assert 'value="' + "x" * 121 + '"' in page.get_data(as_text=True)
    assert client.post("/auth/account/profile", data={"profile-name": "Ann", "profile-locale": "de"}).status_code == 200
    with app.app_context():
        assert db.session.get(User, world.ids["suA"]).name == "Ann Peeters"


def test_password_change_needs_the_current_one_ends_sessions_and_tells_the_person(app, world):
    client = _client(app, world.emails["muniA"])
    stolen = _cookies(client)
    refused = client.post("/auth/account", data={"current_password": "not my password", "new_password": NEW_PASSWORD,
                                                 "new_password_repeat": NEW_PASSWORD})
    assert refused.status_code == 200 and "The current password is not correct." in refused.get_data(as_text=True)
    assert client.post("/auth/account", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                              "new_password_repeat": NEW_PASSWORD}).status_code == 302
    assert _replay(app, stolen).status_code == 302
    assert login(app.test_client(), world.emails["muniA"]).status_code == 200
    assert login(app.test_client(), world.emails["muniA"], NEW_PASSWORD).status_code == 302
    told = _mails_to(app, world.emails["muniA"])
    assert len(told) == 1 and "/auth/reset" in _body(told[0])


# ---- e-mail change -------------------------------------------------------------------------

def _ask_new_email(client, new: str, password: str = PASSWORD):
    return client.post("/auth/account/email", data={"email-new_email": new, "email-password": password})


def test_email_change_is_confirmed_from_the_new_address_and_the_old_one_is_told(app, world):
    old, new = world.emails["suA"], "ann.new@startup-a.example"
    client = _client(app, old)
    assert _ask_new_email(client, new).status_code == 302
    with app.app_context():
        user = db.session.get(User, world.ids["suA"])
        assert (user.email, user.pending_email) == (old, new)
    assert new in client.get("/auth/account").get_data(as_text=True)
    mails = _mails_to(app, new)
    assert len(mails) == 1 and _mails_to(app, old) == []
    link = _local_link(_body(mails[0]), "/auth/account/email/")
    assert new not in link  # the token carries digests, not the address
    # Until confirmed, the old address logs in and the new one does not.
    assert login(app.test_client(), new).status_code == 200

    stranger = app.test_client()  # the link works from the mailbox, signed in or not
    page = stranger.get(link)
    assert page.status_code == 200 and new in page.get_data(as_text=True)
    assert stranger.post(link).status_code == 302
    with app.app_context():
        user = db.session.get(User, world.ids["suA"])
        assert (user.email, user.pending_email) == (new, None)
        actions = list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == "User")))
        assert "account.email_change_request" in actions and "account.email_change" in actions
        # No address is written into the audit trail.
        assert all(old not in json.dumps(e.detail) and new not in json.dumps(e.detail)
                   for e in db.session.scalars(sa.select(AuditEvent)))
    told = _mails_to(app, old)
    assert len(told) == 1 and new in _body(told[0]) and app.config["SUPPORT_EMAIL"] in _body(told[0])
    assert login(app.test_client(), new).status_code == 302
    assert login(app.test_client(), old).status_code == 200
    # The current session goes on.
    assert client.get("/auth/account").status_code == 200

    # Reused: refused, nothing changes.
    again = stranger.get(link)
    assert again.status_code == 302
    assert stranger.post(link).status_code == 302
    with app.app_context():
        assert db.session.get(User, world.ids["suA"]).email == new


def test_an_expired_or_replaced_email_link_is_refused(app, world):
    client = _client(app, world.emails["suB"])
    with freeze_time(datetime.now(UTC) - timedelta(hours=25)), app.test_request_context():
        # The service itself: a session cookie from the future would not load at the frozen time.
        account_settings.request_email_change(db.session.get(User, world.ids["suB"]), "first@startup-b.example",
                                              PASSWORD)
    old_link = _local_link(_body(_mails_to(app, "first@startup-b.example")[0]), "/auth/account/email/")
    assert app.test_client().get(old_link).status_code == 302
    assert app.test_client().post(old_link).status_code == 302
    with app.app_context():
        assert db.session.get(User, world.ids["suB"]).email == world.emails["suB"]

    _ask_new_email(client, "second@startup-b.example")
    second = _local_link(_body(_mails_to(app, "second@startup-b.example")[0]), "/auth/account/email/")
    _ask_new_email(client, "third@startup-b.example")  # a newer request replaces the pending one
    assert app.test_client().post(second).status_code == 302
    with app.app_context():
        user = db.session.get(User, world.ids["suB"])
        assert (user.email, user.pending_email) == (world.emails["suB"], "third@startup-b.example")
    assert app.test_client().get("/auth/account/email/garbage").status_code == 302


def test_an_address_in_use_gets_the_same_answer_and_no_link(app, world):
    client = _client(app, world.emails["suA"])
    taken = _ask_new_email(client, world.emails["muniB"])
    free = _client(app, world.emails["suB"])
    fresh = _ask_new_email(free, "nobody-yet@example.org")
    assert taken.status_code == fresh.status_code == 302 and taken.location == fresh.location
    assert client.get("/auth/account").get_data(as_text=True).count(world.emails["muniB"]) == 1
    to_owner = _mails_to(app, world.emails["muniB"])
    assert len(to_owner) == 1 and "/auth/account/email/" not in _body(to_owner[0])
    with app.app_context():
        assert db.session.get(User, world.ids["suA"]).email == world.emails["suA"]


def test_email_change_needs_the_password_and_keeps_what_was_typed(app, world):
    client = _client(app, world.emails["suA"])
    page = _ask_new_email(client, "typed@example.org", "wrong password")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "The password is not correct." in body and 'value="typed@example.org"' in body
    assert _ask_new_email(client, world.emails["suA"].upper()).status_code == 200  # already the address
    with app.app_context():
        assert db.session.get(User, world.ids["suA"]).pending_email is None
    assert _mails(app) == []


# ---- export (T27) --------------------------------------------------------------------------

def test_every_column_of_the_person_tables_is_declared():
    for section in account_data.SECTIONS:
        columns = set(section.model.__table__.columns.keys())
        assert set(section.fields) == columns, (section.key, columns ^ set(section.fields))
        assert all(why for why in section.fields.values())
        assert set(section.by) <= columns


def test_every_reference_to_a_person_is_exported_or_declared():
    covered = {(s.model.__table__.name, column) for s in account_data.SECTIONS for column in s.by}
    covered |= set(account_data.NOT_EXPORTED_REFERENCES)
    references = {(table.name, fk.parent.name) for table in db.metadata.tables.values()
                  for fk in table.foreign_keys if fk.column.table.name == "user_account"}
    assert references - covered == set(), "a table points at user_account without an export mapping"


def _export(client):
    response = client.post("/auth/account/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "no-store" in response.headers["Cache-Control"]
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def test_export_holds_every_declared_field_and_nothing_of_other_organisations(app, world):
    with app.app_context():
        user = db.session.get(User, world.ids["muniA"])
        user.pending_email = "pending@gent.example"
        db.session.get(Challenge, world.ids["draft"]).created_by_id = user.id
        db.session.add(Notification(user_id=user.id, kind="test", text="A notification for Gent"))
        other = db.session.get(User, world.ids["muniB"])
        db.session.add(Notification(user_id=other.id, kind="test", text="LEUVEN-ONLY-MARKER"))
        db.session.commit()
    client = _client(app, world.emails["muniA"])
    data = _export(client)
    account = data["account"]
    assert set(account) == set(account_data.ACCOUNT.exported())
    assert account["email"] == world.emails["muniA"] and account["pending_email"] == "pending@gent.example"
    assert "password_hash" not in account and "$argon2" not in json.dumps(data)
    assert data["membership"]["name"] == "Gent" and data["membership"]["role_in_organisation"] == "admin"
    assert [n["text"] for n in data["notifications"]] == ["A notification for Gent"]
    assert [c["id"] for c in data["challenges"]] == [world.ids["draft"]]
    assert world.markers["draft"] in json.dumps(data)  # what they wrote
    text = json.dumps(data)
    for marker in ("LEUVEN-ONLY-MARKER", world.markers["application"], world.markers["profile"],
                   world.emails["muniB"], world.emails["suA"]):
        assert marker not in text
    assert any(e["action"] == "account.export" and e["by_you"] for e in data["audit_events"])
    for section in account_data.SECTIONS[1:]:
        assert section.key in data
        for row in data[section.key]:
            assert set(row) - {"by_you"} == set(section.exported())


def test_export_needs_the_owners_session(app, world):
    anonymous = app.test_client()
    response = anonymous.post("/auth/account/export")
    assert response.status_code == 302 and "/auth/login" in response.location
    client = _client(app, world.emails["suA"])
    assert client.get("/auth/account/export").status_code == 405  # no link to replay
    stolen = _cookies(client)
    client.post("/auth/logout")
    thief = app.test_client()
    for name, value in stolen.items():
        thief.set_cookie(name, value)
    assert thief.post("/auth/account/export").status_code == 302


# ---- deletion (T27) ------------------------------------------------------------------------

def _delete(client, password: str = PASSWORD, confirm: bool = True):
    data = {"password": password}
    if confirm:
        data["confirm"] = "y"
    return client.post("/auth/account/delete", data=data)


def test_the_last_admin_of_an_organisation_with_members_must_hand_over(app, world):
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        make_user("colleague@gent.example", Role.MUNICIPALITY, gent, OrgRole.MEMBER)
        db.session.commit()
    client = _client(app, world.emails["muniA"])
    page = client.get("/auth/account/delete").get_data(as_text=True)
    assert "You are the last admin of Gent" in page
    refused = _delete(client)
    assert refused.status_code == 200 and "You are the last admin of Gent" in refused.get_data(as_text=True)
    with app.app_context():
        assert _user(world.emails["muniA"]).deleted_at is None
        db.session.scalar(sa.select(User).where(User.email == "colleague@gent.example")).org_role = OrgRole.ADMIN
        db.session.commit()
    assert _delete(client).status_code == 302


def test_a_wrong_password_or_no_confirmation_deletes_nothing(app, world):
    client = _client(app, world.emails["suA"])
    assert "The password is not correct." in _delete(client, "wrong password").get_data(as_text=True)
    assert _delete(client, confirm=False).status_code == 200
    with app.app_context():
        assert _user(world.emails["suA"]).deleted_at is None


def test_the_platforms_only_administrator_cannot_delete_the_account(app, world):
    client = _client(app, world.emails["admin"])
    assert _delete(client).status_code == 200
    with app.app_context():
        assert _user(world.emails["admin"]).deleted_at is None


def test_deletion_anonymises_ends_sessions_keeps_content_and_audit(app, world):
    email = world.emails["suA"]
    with app.app_context():
        user = db.session.get(User, world.ids["suA"])
        user.pending_email = "pending@startup-a.example"
        db.session.get(Organisation, world.ids["org_suA"]).contact_email = email
        db.session.add(Notification(user_id=user.id, kind="test", text="for suA"))
        db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"email": email, "password": PASSWORD, "remember": "y"})
    client.post("/auth/account/profile", data={"profile-name": "Ann Secret-Name", "profile-locale": "en"})
    stolen = _cookies(client)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert _delete(client).status_code == 302
    assert client.get("/auth/account").status_code == 302
    assert _replay(app, stolen).status_code == 302
    assert login(app.test_client(), email).status_code == 200
    with app.app_context():
        user = db.session.get(User, world.ids["suA"])
        assert user.name == account_data.DELETED_NAME
        assert user.email == f"deleted-{user.id}@invalid"
        assert user.pending_email is None and user.deleted_at is not None and not user.active
        assert user.organisation_id is None and user.org_role is None
        assert not user.password_hash.startswith("$argon2")
        assert db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)).all() == []
        org = db.session.get(Organisation, world.ids["org_suA"])
        assert org is not None and org.contact_email is None
        assert org.profile is not None  # the organisation's content stays
        # Audit rows: none removed, the actor is the anonymised row, no name or address left.
        events = list(db.session.scalars(sa.select(AuditEvent)))
        assert len(events) == before + 2  # account.delete and the contact address cleared
        assert any(e.action == "account.delete" and e.actor_id == user.id for e in events)
        dump = json.dumps([e.detail for e in events])
        assert "Ann Secret-Name" not in dump and email not in dump
        # Mail to the old address left the outbox, except the last one confirming the deletion.
        mails = [e for e in db.session.scalars(sa.select(OutboxEffect).where(OutboxEffect.kind == "mail"))
                 if e.payload["to"] == email]
        assert len(mails) == 1 and "deleted" in mails[0].payload["subject"]


def test_a_sole_member_may_delete_and_the_organisation_stays(app, world):
    client = _client(app, world.emails["muniB"])
    page = client.get("/auth/account/delete").get_data(as_text=True)
    assert "You are the only member of Leuven" in page
    assert _delete(client).status_code == 302
    with app.app_context():
        leuven = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Leuven"))
        assert leuven is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Challenge)
                                 .where(Challenge.organisation_id == leuven.id)) == 1


def test_deleting_an_expert_removes_the_profile_from_the_database_and_the_index(app, world):
    client = _client(app, world.emails["facilitator"])
    expertise = "Zorgvuldige kennis van aanbestedingsrecht en innovatiepartnerschappen, door Griet Vandenbroucke."
    assert client.post("/experts/profile", data={"areas": ["procurement_law"], "expertise": expertise,
                                                 "language": "nl", "languages": ["nl"],
                                                 "available": "y"}).status_code == 302
    with app.app_context():
        profile_id = db.session.scalar(sa.select(ExpertProfile.id))
        assert profile_id in matching.indexed_ids("expert")
        assert [r.id for r in matching.rank("expert", "Griet Vandenbroucke", "nl", {profile_id}, k=5)] == [profile_id]
    assert _delete(client).status_code == 302
    with app.app_context():
        assert db.session.get(ExpertProfile, profile_id) is None
        rows = db.session.scalars(sa.select(Embedding).where(Embedding.object_type == "expert",
                                                             Embedding.object_id == profile_id)).all()
        assert rows and all(row.vectors is None for row in rows)
        assert profile_id not in matching.indexed_ids("expert")
        assert matching.rank("expert", "Griet Vandenbroucke", "nl", {profile_id}, k=5) == []


# ---- deactivation by an administrator ------------------------------------------------------

def test_an_administrator_deactivates_and_reactivates_an_account(app, world):
    victim = app.test_client()
    victim.post("/auth/login", data={"email": world.emails["suB"], "password": PASSWORD, "remember": "y"})
    stolen = _cookies(victim)
    admin = _client(app, world.emails["admin"])
    listing = admin.get("/admin/users/?q=suB").get_data(as_text=True)
    assert world.emails["suB"] in listing and world.emails["suA"] not in listing
    assert admin.post(f"/admin/users/{world.ids['suB']}/deactivate").status_code == 302
    assert victim.get("/auth/account").status_code == 302
    assert _replay(app, stolen).status_code == 302
    assert login(app.test_client(), world.emails["suB"]).status_code == 200
    assert len(_mails_to(app, world.emails["suB"])) == 1
    assert admin.post(f"/admin/users/{world.ids['suB']}/reactivate").status_code == 302
    assert login(app.test_client(), world.emails["suB"]).status_code == 302
    assert _replay(app, stolen).status_code == 302  # the old cookies stay dead
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "User", AuditEvent.object_id == world.ids["suB"],
            AuditEvent.actor_id == world.ids["admin"])))
        assert actions == ["account.deactivate", "account.reactivate"]
    # Not oneself, not a deleted account, not an unknown one.
    admin.post(f"/admin/users/{world.ids['admin']}/deactivate")
    assert login(app.test_client(), world.emails["admin"]).status_code == 302
    assert admin.post("/admin/users/999999/deactivate").status_code == 404


def test_a_deleted_account_cannot_be_reactivated(app, world):
    _delete(_client(app, world.emails["suB"]))
    admin = _client(app, world.emails["admin"])
    admin.post(f"/admin/users/{world.ids['suB']}/reactivate")
    with app.app_context():
        assert not db.session.get(User, world.ids["suB"]).active


@pytest.mark.parametrize("principal", ["muniA", "suA", "facilitator"])
def test_only_administrators_deactivate(app, world, principal):
    client = _client(app, world.emails[principal])
    assert client.post(f"/admin/users/{world.ids['suB']}/deactivate").status_code == 403
    with app.app_context():
        assert db.session.get(User, world.ids["suB"]).active


# ---- privacy statement and retention -------------------------------------------------------

@pytest.mark.parametrize("locale, title", [("nl", "Privacyverklaring"), ("fr", "Déclaration de confidentialité"),
                                           ("en", "Privacy statement")])
def test_privacy_statement_names_the_periods_the_platform_applies(app, client, locale, title):
    client.post("/language", data={"locale": locale})
    body = client.get("/privacy").get_data(as_text=True)
    assert title in body and app.config["SUPPORT_EMAIL"] in body
    for number in (retention.AUDIT_DAYS // 365, retention.NOTIFICATION_DAYS, retention.OUTBOX_DAYS,
                   app.config["EMAIL_CHANGE_MAX_AGE"] // 3600):
        assert f"{number} " in body
    terms = client.get("/terms").get_data(as_text=True)
    assert app.config["SUPPORT_EMAIL"] in terms
    footer = client.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in footer and 'href="/terms"' in footer


def test_retention_deletes_what_is_past_its_period_and_nothing_else(app, world):
    now = datetime.now(UTC)
    with app.app_context():
        uid = world.ids["suA"]
        old_audit = AuditEvent(action="old", object_type="none", at=now - timedelta(days=retention.AUDIT_DAYS + 1))
        new_audit = AuditEvent(action="recent", object_type="none", at=now - timedelta(days=retention.AUDIT_DAYS - 1))
        old_note = Notification(user_id=uid, kind="t", text="old",
                                created_at=now - timedelta(days=retention.NOTIFICATION_DAYS + 1))
        new_note = Notification(user_id=uid, kind="t", text="new", created_at=now)
        sent = OutboxEffect(kind="mail", payload={}, done_at=now - timedelta(days=retention.OUTBOX_DAYS + 1))
        recent = OutboxEffect(kind="mail", payload={}, done_at=now - timedelta(days=1))
        pending = OutboxEffect(kind="mail", payload={}, created_at=now - timedelta(days=400))
        db.session.add_all([old_audit, new_audit, old_note, new_note, sent, recent, pending])
        db.session.commit()
        counts = retention.apply_retention(now)
        assert counts == {"outbox": 1, "notifications": 1, "audit": 1}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "recent")) == 1
        assert {e.id for e in db.session.scalars(sa.select(OutboxEffect))} >= {recent.id, pending.id}
