"""Mail goes to a real SMTP server when MAIL_SERVER is set (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from proeftuin.enums import Role
from proeftuin.extensions import db
from tests.conftest import outbox_messages


class Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def test_reset_mail_travels_over_smtp(make_app, smtp_server):
    controller, handler = smtp_server
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    from proeftuin.enums import Role
    from proeftuin.extensions import db
    from tests.conftest import make_user
    with app.app_context():
        make_user("mailme@example.org", Role.STARTUP)
        db.session.commit()
    app.test_client().post("/auth/reset", data={"email": "mailme@example.org"})
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "mailme@example.org"
    body = message.get_payload(decode=True).decode()
    assert "/auth/reset/" in body
    assert outbox_messages(app) == []


def test_an_accepted_match_is_mailed_to_both_parties_over_smtp(make_app, smtp_server):
    """The facilitator's introduction reaches both parties through a real SMTP server."""
    import sqlalchemy as sa

    from proeftuin.enums import ChallengeStatus, OrgKind, Role
    from proeftuin.extensions import db
    from proeftuin.models import MatchSuggestion
    from proeftuin.services import matching
    from proeftuin.services import suggestions as suggestion_service
    from tests.conftest import login, make_challenge, make_org, make_profile, make_user

    controller, handler = smtp_server
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("city@example.org", Role.MUNICIPALITY, gent)
        startup = make_org(OrgKind.STARTUP, "Counters")
        make_user("founder@example.org", Role.STARTUP, startup)
        make_user("fien@example.org", Role.FACILITATOR, make_org(OrgKind.FACILITATOR, "Steunpunt"))
        challenge = make_challenge(gent, "School streets", ChallengeStatus.PUBLISHED)
        make_profile(startup, "Counting traffic at schools", "We count traffic near school gates.")
        db.session.commit()
        matching.rebuild()
        suggestion_service.refresh_suggestions(challenge)
        suggestion_id = db.session.scalar(sa.select(MatchSuggestion.id))
    client = app.test_client()
    login(client, "fien@example.org")
    client.post("/review/decide", data={"ids": [suggestion_id], "decision": "accept"})
    recipients = sorted(message["To"] for message in handler.messages)
    assert recipients == ["city@example.org", "founder@example.org"]
    body = handler.messages[0].get_payload(decode=True).decode()
    assert f"/matches/{suggestion_id}" in body


# ---- no user text in headers (issue 7) -------------------------------------------------------

HOSTILE_TITLE = "Schoolstraten\r\nBcc: x@evil.example\r\n\r\nInjected body"


def test_a_title_with_crlf_cannot_add_headers_over_smtp(make_app, smtp_server):
    """A subject built from a challenge title stays one header; the only recipient is `To`."""
    from email import message_from_bytes, policy

    from proeftuin.services.mail import SUBJECT_MAX_LENGTH, deliver

    controller, handler = smtp_server
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    with app.app_context():
        deliver("city@example.org", f"New application for {HOSTILE_TITLE}" + "x" * 500, "Hello")
    (received,) = handler.messages
    assert received["X-RcptTo"] == "city@example.org"  # the SMTP envelope: no Bcc recipient was added
    message = message_from_bytes(received.as_bytes(), policy=policy.default)
    assert [key for key in message.keys() if key.lower() in {"bcc", "cc"}] == []
    subject = str(message["Subject"])
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("New application for Schoolstraten Bcc: x@evil.example Injected body")
    assert len(subject) <= SUBJECT_MAX_LENGTH
    assert message.get_content().strip() == "Hello"


def test_a_hostile_title_in_a_notification_subject_stays_in_the_subject(make_app):
    from email import message_from_string

    from proeftuin.enums import OrgKind
    from proeftuin.models import Application
    from proeftuin.services import notify
    from tests.conftest import make_challenge, make_org, make_user

    app = make_app()
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("city@example.org", Role.MUNICIPALITY, gent)
        startup = make_org(OrgKind.STARTUP, "Counters\u2028Bcc: y@evil.example")
        challenge = make_challenge(gent, HOSTILE_TITLE)
        application = Application(challenge_id=challenge.id, organisation_id=startup.id, proposal="A proposal.")
        db.session.add(application)
        db.session.commit()
        with app.test_request_context():
            notify.application_submitted(application)  # queued in the caller's transaction
            db.session.commit()
    (text,) = outbox_messages(app)
    message = message_from_string(text)
    assert message["To"] == "city@example.org" and message["Bcc"] is None
    assert "Bcc: x@evil.example" in message["Subject"]  # harmless text inside the one Subject header
    assert not any(line.lower().startswith("bcc") for line in text.split("\n\n", 1)[0].splitlines())


@pytest.mark.parametrize("text", ["a\r\nb", "a\nb", "a\rb", "a\x00b", "a\tb", "a\u2028b", "a\u202eb", "a\x85b"])
def test_header_text_makes_one_printable_line(text):
    from proeftuin.services.mail import header_text

    assert header_text(text) == "a b"


def test_header_text_caps_the_length():
    from proeftuin.services.mail import header_text

    assert header_text("word " * 100, max_length=20) == "word word word word\u2026"
    assert header_text("short title") == "short title"


@pytest.mark.parametrize("address", [
    "mailme@example.org\r\nBcc: x@evil.example", "mailme@example.org\nBcc: x@evil.example",
    "mailme@example.org, x@evil.example", "mailme@example.org;x@evil.example",
    "Mail Me <mailme@example.org>", "<x@evil.example>", "mailme@example.org ", "mailme", "mailme@",
    "@example.org", "mailme@localhost", "", "a" * 250 + "@example.org", "mail\x00me@example.org",
])
def test_mail_refuses_anything_but_one_plain_address(make_app, address):
    from proeftuin.services.mail import InvalidRecipient, queue_mail

    app = make_app()
    with app.app_context(), pytest.raises(InvalidRecipient):
        queue_mail(address, "Subject", "Body")
    assert outbox_messages(app) == []


@pytest.mark.parametrize("address", ["mailme@example.org", "Fien@Steunpunt.example", "an.na+tag@gent.be"])
def test_mail_accepts_plain_addresses(make_app, address):
    from email import message_from_string

    from proeftuin.services.mail import queue_mail

    app = make_app()
    with app.app_context():
        queue_mail(address, "Subject", "Body")
        db.session.commit()
    (text,) = outbox_messages(app)
    assert message_from_string(text)["To"] == address
