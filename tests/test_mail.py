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
