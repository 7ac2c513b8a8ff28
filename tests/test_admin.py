"""Admins verify organisations and create facilitators; the CLI creates admins."""
from __future__ import annotations

import sqlalchemy as sa

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Organisation, User
from tests.conftest import PASSWORD, link_in, login, outbox_messages


def test_admin_verifies_an_organisation(app, world):
    client = app.test_client()
    login(client, world.emails["admin"])
    assert "Startup B" in client.get("/admin/").get_data(as_text=True)
    client.post(f"/admin/organisations/{world.ids['org_suB']}/verify")
    with app.app_context():
        assert db.session.get(Organisation, world.ids["org_suB"]).verified_at is not None
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "organisation.verify"))


def test_admin_creates_a_facilitator_who_sets_a_password(app, world):
    client = app.test_client()
    login(client, world.emails["admin"])
    response = client.post("/admin/facilitators/new", data={"name": "Fien", "email": "Fien@Steunpunt.example"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "fien@steunpunt.example"))
        assert user.role == Role.FACILITATOR
    # No password works until the link in the mail is followed.
    assert login(app.test_client(), "fien@steunpunt.example", "!unset").status_code == 200
    path = link_in(outbox_messages(app)[-1], "/auth/reset/")
    newcomer = app.test_client()
    newcomer.post(path, data={"password": "facilitator passphrase", "password_repeat": "facilitator passphrase"})
    assert login(newcomer, "fien@steunpunt.example", "facilitator passphrase").status_code == 302


def test_duplicate_facilitator_email_is_a_field_error(app, world):
    client = app.test_client()
    login(client, world.emails["admin"])
    page = client.post("/admin/facilitators/new", data={"name": "Dup", "email": world.emails["suA"]})
    assert page.status_code == 200 and 'aria-invalid="true"' in page.get_data(as_text=True)


def test_cli_creates_an_admin(app, runner):
    result = runner.invoke(args=["users", "create-admin", "--email", "root@example.org", "--name", "Root",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "root@example.org").status_code == 302
    again = runner.invoke(args=["users", "create-admin", "--email", "root@example.org", "--name", "Root",
                                "--password", PASSWORD])
    assert again.exit_code != 0
