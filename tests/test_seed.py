"""`flask seed demo` loads the demo once, with a log-in per role."""
from __future__ import annotations

import sqlalchemy as sa

from proeftuin.enums import ChallengeStatus, Language, OrgKind
from proeftuin.extensions import db
from proeftuin.models import Challenge, Municipality, Organisation, StartupProfile
from proeftuin.services import seeding
from tests.conftest import login


def test_reference_data_has_every_municipality(app):
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Municipality)) == 304
        assert db.session.get(Municipality, "11002").name_fr == "Anvers"
        assert db.session.get(Municipality, "23106").name_nl == "Pajottegem"


def test_demo_loads_once_and_every_login_works(app, runner):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0 and "demo loaded" in first.output
    second = runner.invoke(args=["seed", "demo"])
    assert "already loaded" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Challenge)) == 32
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StartupProfile)) == 60
        # Everything but the support point itself is marked as demo content.
        assert set(db.session.scalars(sa.select(Organisation.kind).where(~Organisation.is_demo))) == {
            OrgKind.FACILITATOR}
        languages = set(db.session.scalars(sa.select(Challenge.language)))
        assert languages == {Language.NL, Language.FR, Language.EN}
        assert db.session.scalar(sa.select(sa.func.count()).where(
            Challenge.status == ChallengeStatus.DRAFT)) == 3
    for demo_login in seeding.DEMO_LOGINS:
        assert demo_login.email in first.output
        assert login(app.test_client(), demo_login.email, demo_login.password).status_code == 302
    page = app.test_client().get("/challenges/").get_data(as_text=True)
    assert "demo" in page
