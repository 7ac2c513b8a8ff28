"""Admins verify organisations (queue, domain check, reject, revoke), create facilitators; the CLI creates admins."""
from __future__ import annotations

import quopri

import sqlalchemy as sa

from proeftuin.enums import OrgKind, Region, Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Organisation, User
from tests.conftest import PASSWORD, link_in, login, make_org, make_user, outbox_messages


def _pending(app, name="Parkeerslim", email="ann@parkeerslim.example", kind=OrgKind.STARTUP, nis=None,
             website=None, locale=None) -> int:
    with app.app_context():
        org = make_org(kind, name, nis, verified=False)
        org.website = website
        user = make_user(email, Role.STARTUP if kind == OrgKind.STARTUP else Role.MUNICIPALITY, org)
        user.name, user.locale = "Ann Peeters", locale
        db.session.commit()
        return org.id


def _english_admin(app, world, who="admin"):
    client = app.test_client()
    client.post("/language", data={"locale": "en"})
    login(client, world.emails[who])
    return client


def test_admin_verifies_an_organisation(app, world):
    org_id = _pending(app)
    client = _english_admin(app, world)
    assert "Verification queue" in client.get("/admin/").get_data(as_text=True)
    queue = client.get("/admin/organisations/").get_data(as_text=True)
    # Who registered: the organisation, the person, the address and the date.
    assert "Parkeerslim" in queue and "Ann Peeters" in queue and "ann@parkeerslim.example" in queue
    assert "Registered" in queue and "Startup B" not in queue  # verified ones are not waiting
    client.post(f"/admin/organisations/{org_id}/verify")
    with app.app_context():
        assert db.session.get(Organisation, org_id).verified_at is not None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organisation.verify"))
        assert event.object_id == org_id and event.actor_id == world.ids["admin"]
    assert f'data-id="{org_id}"' not in client.get("/admin/organisations/").get_data(as_text=True)
    assert any("ann@parkeerslim.example" in m for m in outbox_messages(app))


def test_facilitator_verifies_too(app, world):
    org_id = _pending(app)
    client = _english_admin(app, world, "facilitator")
    assert client.get("/admin/organisations/").status_code == 200
    assert client.post(f"/admin/organisations/{org_id}/verify").status_code == 302
    with app.app_context():
        assert db.session.get(Organisation, org_id).is_verified


def test_queue_shows_whether_the_email_domain_matches(app, world):
    _pending(app, "Gent stad", "it@stad.gent", OrgKind.MUNICIPALITY)
    _pending(app, "Counters", "ann@counters.example", website="https://www.counters.example")
    _pending(app, "Freemail", "ann@gmail.com", website="https://freemail.example")
    client = _english_admin(app, world)
    rows = {line.split('data-id="')[1].split('"')[0]: line for line in
            client.get("/admin/organisations/").get_data(as_text=True).split("<tr")[2:]}
    by_name = {next(n for n in ("Gent stad", "Counters", "Freemail") if n in row): row for row in rows.values()}
    assert "Matches" in by_name["Counters"] and "counters.example belongs to the website" in by_name["Counters"]
    assert "Does not match" in by_name["Freemail"] and "gmail.com" in by_name["Freemail"]


def test_domain_rule_reads_website_hosts_and_municipality_names(app):
    from proeftuin.models import Municipality
    from proeftuin.services.verification import domain_check

    with app.app_context():
        gent = Organisation(kind=OrgKind.MUNICIPALITY, name="Gent", slug="gent", region=Region.OOST_VLAANDEREN,
                            municipality=db.session.get(Municipality, "44021"))
        assert domain_check("it@stad.gent", gent).reason == "municipality_name"
        assert domain_check("it@gent.be", gent).matches
        assert not domain_check("it@agentmail.com", gent).matches
        assert not domain_check("it@gmail.com", gent).matches
        ixelles = db.session.scalar(sa.select(Municipality).where(Municipality.name_fr == "Ixelles"))
        elsene = Organisation(kind=OrgKind.MUNICIPALITY, name=ixelles.name_nl, slug="elsene",
                              region=Region.BRUSSELS, municipality=ixelles)
        assert domain_check("info@ixelles.brussels", elsene).matches
        startup = Organisation(kind=OrgKind.STARTUP, name="Gent Counters", slug="gc", region=Region.ANTWERPEN,
                               website="https://www.counters.example/about")
        assert domain_check("ann@counters.example", startup).reason == "website"
        assert domain_check("ann@eu.counters.example", startup).matches
        assert not domain_check("ann@notcounters.example", startup).matches
        assert not domain_check("ann@gent.be", startup).matches  # the name rule is for municipalities


def test_reject_mails_the_reason_in_the_registrants_language(app, world):
    org_id = _pending(app, locale="fr")
    client = _english_admin(app, world)
    client.post(f"/admin/organisations/{org_id}/reject", data={"reason": ""})
    with app.app_context():
        assert db.session.get(Organisation, org_id).verification_state == "pending"  # a reason is required
    client.post(f"/admin/organisations/{org_id}/reject", data={"reason": "Nous ne trouvons pas cette entreprise."})
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert org.verified_at is None and org.rejection_reason == "Nous ne trouvons pas cette entreprise."
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organisation.reject"))
        assert event.detail["reason"] == "Nous ne trouvons pas cette entreprise."
    mails = [m for m in outbox_messages(app) if "ann@parkeerslim.example" in m]
    assert len(mails) == 1
    body = quopri.decodestring(mails[0].encode()).decode("utf-8", "replace")
    assert "Nous ne trouvons pas cette entreprise." in body
    assert "n'a pas v" in body  # "Le point d'appui n'a pas vérifié …": French, the registrant's language
    rejected = client.get("/admin/organisations/?state=rejected").get_data(as_text=True)
    assert "Parkeerslim" in rejected and "Nous ne trouvons pas cette entreprise." in rejected


def test_revoke_withdraws_a_verification(app, world):
    client = _english_admin(app, world)
    client.post(f"/admin/organisations/{world.ids['org_muniA']}/reject", data={"reason": "Verified already."})
    with app.app_context():
        assert db.session.get(Organisation, world.ids["org_muniA"]).is_verified  # reject is for pending ones
    assert app.test_client().get(f"/challenges/{world.ids['published']}").status_code == 200
    client.post(f"/admin/organisations/{world.ids['org_muniA']}/revoke", data={"reason": "Not the city."})
    with app.app_context():
        org = db.session.get(Organisation, world.ids["org_muniA"])
        assert not org.is_verified and org.rejection_reason == "Not the city."
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organisation.revoke"))
    assert app.test_client().get(f"/challenges/{world.ids['published']}").status_code == 404
    assert any(world.emails["muniA"] in m for m in outbox_messages(app))


def test_queue_filters_and_pages(app, world):
    for i in range(3):
        _pending(app, f"Pending {i}", f"p{i}@pending{i}.example")
    _pending(app, "Gent stad", "it@stad.gent", OrgKind.MUNICIPALITY)
    client = _english_admin(app, world)

    def names(query: str) -> set[str]:
        page = client.get("/admin/organisations/" + query)
        assert page.status_code == 200, query
        body = page.get_data(as_text=True)
        return {n for n in ("Pending 0", "Pending 1", "Pending 2", "Gent stad", "Startup A", "Leuven") if n in body}

    assert names("") == {"Pending 0", "Pending 1", "Pending 2", "Gent stad"}
    assert names("?kind=municipality") == {"Gent stad"}
    assert names("?state=verified&kind=startup") == {"Startup A"}
    assert names("?state=all&q=leuv") == {"Leuven"}
    assert names("?q=p1%40pending1") == {"Pending 1"}  # by the registrant's e-mail
    assert names("?per_page=2") | names("?per_page=2&page=2") == {"Pending 0", "Pending 1", "Pending 2", "Gent stad"}
    assert len(names("?per_page=2&page=2")) == 2
    for bad in ("?page=abc", "?page=0", "?page=-1", "?per_page=1000", "?page=1e3", "?kind=facilitator",
                "?state=bogus", "?page=99999999999999999999999"):
        assert client.get("/admin/organisations/" + bad).status_code == 400, bad
    assert client.get("/admin/organisations/?page=999").status_code == 404
    assert client.post("/admin/organisations/999999/verify").status_code == 404


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
