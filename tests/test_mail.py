"""Mail goes to a real SMTP server when MAIL_SERVER is set (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

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
