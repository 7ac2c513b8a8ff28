"""Buyer groups: the engine's clusters on real texts, confirming, invitations, answers, who sees what."""
from __future__ import annotations

import re

import numpy as np
import pytest
import sqlalchemy as sa

from proeftuin.enums import BuyerGroupStatus, ChallengeStatus, InvitationStatus, Language, OrgKind, Role, Theme
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, BuyerGroup, BuyerGroupMember, Challenge, Notification, User
from proeftuin.services import buyer_groups as service
from tests.conftest import login, make_challenge, make_org, make_user, outbox_messages

# ---- real texts (USE multilingual v3) ------------------------------------------------------

# key: (municipality, NIS code, language, themes, title, summary, problem, desired outcome)
TEXTS = {
    "gent_school": (
        "Gent", "44021", Language.NL, (Theme.MOBILITY, Theme.SAFETY),
        "Schoolstraten die werken zonder dagelijkse hekken en vrijwilligers",
        "Elke ochtend en middag zetten ouders en leerkrachten nadarhekken om de schoolstraat af te sluiten "
        "voor auto's.",
        "Rond onze basisscholen rijden bij het begin en einde van de schooldag veel ouders met de auto tot aan de "
        "schoolpoort. Kinderen die te voet of met de fiets komen, moeten tussen manoeuvrerende wagens door. "
        "Schoolstraten helpen, maar het plaatsen van de hekken hangt af van vrijwilligers die steeds moeilijker te "
        "vinden zijn, en bestuurders rijden door als niemand bij het hek staat.",
        "Schoolstraten die betrouwbaar autovrij zijn bij het begin en einde van de schooldag, zonder dagelijkse "
        "manuele inzet, met doorgang voor bewoners en hulpdiensten en minder doorrijdende auto's.",
    ),
    "mechelen_school": (
        "Mechelen", "12025", Language.NL, (Theme.MOBILITY, Theme.EDUCATION),
        "Veilige schoolomgeving: minder auto's aan de schoolpoort",
        "De verkeersdrukte aan de schoolpoorten is gevaarlijk voor fietsende en wandelende kinderen.",
        "Bij de schoolspits parkeren ouders op het voetpad en maken ze keermanoeuvres tussen fietsende kinderen. "
        "De straat voor de school afsluiten met een schoolstraat lukt niet overal, omdat er geen gemachtigd "
        "opzichters zijn om de hekken te plaatsen. We willen de schoolomgeving veiliger maken en het autoverkeer "
        "aan de schoolpoort verminderen.",
        "Een schoolomgeving waar kinderen veilig te voet en met de fiets naar school kunnen, met minder auto's aan "
        "de schoolpoort tijdens de schoolspits.",
    ),
    "schaerbeek_school": (
        "Schaerbeek", "21015", Language.FR, (Theme.MOBILITY, Theme.SAFETY),
        "Des rues scolaires sans barrières à déplacer chaque jour",
        "Aux heures d'entrée et de sortie des classes, les voitures des parents encombrent les abords des écoles.",
        "Devant nos écoles primaires, de nombreux parents déposent leurs enfants en voiture jusqu'à la porte de "
        "l'école. Les enfants qui viennent à pied ou à vélo doivent se faufiler entre les voitures qui manœuvrent. "
        "La rue scolaire est fermée avec des barrières posées par des bénévoles, qui manquent de plus en plus, et "
        "des conducteurs passent quand personne ne surveille.",
        "Des rues scolaires fermées aux voitures de manière fiable à l'entrée et à la sortie des classes, sans "
        "intervention manuelle quotidienne, avec un accès pour les riverains et les services de secours.",
    ),
    "kortrijk_heat": (
        "Kortrijk", "34022", Language.NL, (Theme.CLIMATE_ENERGY, Theme.HOUSING_PLANNING),
        "Verharde pleinen koeler maken tijdens hittegolven",
        "Op onze stenen pleinen wordt het in de zomer ondraaglijk heet voor bewoners en marktkramers.",
        "Tijdens hittegolven warmen de verharde pleinen en straten in de binnenstad sterk op en koelen ze 's nachts "
        "nauwelijks af. Ouderen en jonge kinderen lijden onder de hitte, en er is weinig schaduw of groen. Bomen "
        "planten kan niet overal door leidingen in de ondergrond en door de markt die er elke week staat.",
        "Pleinen die tijdens hittegolven merkbaar koeler zijn, met schaduw, groen en water, gemeten met "
        "temperatuursensoren, zonder de markt te hinderen.",
    ),
    "leuven_heat": (
        "Leuven", "24062", Language.EN, (Theme.CLIMATE_ENERGY, Theme.HEALTH),
        "Cooling paved squares during heatwaves",
        "Our stone-paved squares become unbearably hot in summer for residents and market traders.",
        "During heatwaves the paved squares and streets of the city centre heat up strongly and hardly cool down at "
        "night. Older people and young children suffer from the heat, and there is little shade or greenery. "
        "Planting trees is not possible everywhere because of underground pipes and the weekly market.",
        "Squares that are noticeably cooler during heatwaves, with shade, greenery and water, measured with "
        "temperature sensors, without getting in the way of the market.",
    ),
    "hasselt_lonely": (
        "Hasselt", "71072", Language.NL, (Theme.CARE_WELFARE,),
        "Vereenzaming bij thuiswonende ouderen vroeger opsporen",
        "Veel 75-plussers wonen alleen en hebben nauwelijks sociale contacten.",
        "Thuiswonende ouderen die vereenzamen, komen pas in beeld als hun gezondheid al achteruitgaat. Huisartsen, "
        "thuisverpleging en buren merken signalen op, maar die worden niet gedeeld. Het sociaal huis wil eenzame "
        "ouderen sneller bereiken.",
        "Meer eenzame ouderen die vroeg bereikt worden en weer deelnemen aan activiteiten in hun buurt.",
    ),
    "oostende_beach": (
        "Oostende", "35013", Language.EN, (Theme.SAFETY,),
        "Scheduling lifeguards on a busy beach",
        "The number of lifeguards does not follow the crowds on the beach.",
        "On sunny summer days the beach is crowded while lifeguard posts are staffed by a fixed roster planned "
        "months ahead. On rainy days posts are overstaffed. We lack a way to forecast beach attendance and plan the "
        "shifts of seasonal staff.",
        "A roster for lifeguards that follows the forecast attendance and weather, with fewer understaffed posts.",
    ),
    "aalst_waste": (
        "Aalst", "41002", Language.NL, (Theme.CIRCULAR_ECONOMY,),
        "Beter sorteren in appartementsgebouwen",
        "In grote appartementsgebouwen belandt veel herbruikbaar materiaal in het restafval.",
        "Bewoners van appartementen hebben weinig plaats om afval te sorteren en de gemeenschappelijke afvallokalen "
        "zijn vaak vervuild. PMD, papier en gft belanden bij het restafval, wat de kosten verhoogt.",
        "Minder restafval per bewoner in appartementsgebouwen en schonere afvallokalen.",
    ),
    "brugge_library": (
        "Brugge", "31005", Language.NL, (Theme.CULTURE_LEISURE,),
        "Digitale leeskoffers voor de bibliotheek",
        "Leesclubs vragen meer e-boeken en luisterboeken die ze samen kunnen lezen.",
        "De bibliotheek leent papieren leeskoffers uit aan leesclubs, maar steeds meer lezers willen e-boeken of "
        "luisterboeken. De licenties zijn duur en het uitleensysteem kan geen digitale pakketten aan.",
        "Leesclubs die een digitale leeskoffer kunnen reserveren met e-boeken en luisterboeken.",
    ),
    # Gent's second challenge is close to the school streets too (cycling to secondary schools):
    # a municipality's own challenges are never grouped with each other.
    "gent_cycling": (
        "Gent", "44021", Language.NL, (Theme.MOBILITY,),
        "Fietsveilige routes naar de middelbare scholen",
        "Jongeren fietsen naar school over drukke gewestwegen zonder vrijliggend fietspad.",
        "Middelbare scholieren fietsen elke dag lange afstanden over drukke wegen met vrachtverkeer. Kruispunten "
        "zijn onoverzichtelijk en ouders brengen hun kinderen daarom met de auto, wat de drukte aan de school "
        "vergroot.",
        "Veilige fietsroutes naar de middelbare scholen, minder ongevallen met fietsende scholieren en meer "
        "jongeren die met de fiets komen.",
    ),
    # A draft about school streets: never shown to anyone but its owner, so never grouped.
    "antwerpen_draft": (
        "Antwerpen", "11002", Language.NL, (Theme.MOBILITY,),
        "Schoolstraten automatisch afsluiten met camera's DRAFT-MARKER",
        "Elke schooldag sluiten vrijwilligers de schoolstraat af met hekken; dat willen we automatiseren.",
        "Bij het begin en einde van de schooldag rijden ouders met de auto tot aan de schoolpoort. De hekken van de "
        "schoolstraat worden door vrijwilligers geplaatst, die er niet altijd zijn.",
        "Schoolstraten die zonder vrijwilligers autovrij blijven bij het begin en einde van de schooldag.",
    ),
}
SCHOOL = {"gent_school", "mechelen_school", "schaerbeek_school"}
HEAT = {"kortrijk_heat", "leuven_heat"}
UNRELATED = {"hasselt_lonely", "oostende_beach", "aalst_waste", "brugge_library"}


@pytest.fixture(scope="module")
def warm_model():
    """Load the bundled multilingual model once for the module."""
    from embeddings.encoders import get_encoder

    encoder = get_encoder("use-multilingual-v3")
    encoder.encode(["warm up"])
    return encoder


@pytest.fixture
def real_app(make_app, warm_model):
    return make_app(EMBEDDING_MODEL="use-multilingual-v3")


def _seed_real(app) -> dict[str, int]:
    """Create the municipalities, a member each, staff and the challenges; build the index (CLI)."""
    ids: dict[str, int] = {}
    with app.app_context():
        orgs = {}
        for key, (name, nis, language, themes, title, summary, problem, outcome) in TEXTS.items():
            if name not in orgs:
                orgs[name] = make_org(OrgKind.MUNICIPALITY, name, nis)
                make_user(f"{name.lower()}@example.org", Role.MUNICIPALITY, orgs[name])
            status = ChallengeStatus.DRAFT if key == "antwerpen_draft" else ChallengeStatus.PUBLISHED
            challenge = make_challenge(orgs[name], title, status, themes=themes, language=language, problem=problem)
            challenge.summary = summary
            challenge.desired_outcome = outcome
            ids[key] = challenge.id
        staff = make_org(OrgKind.FACILITATOR, "Steunpunt")
        ids["facilitator"] = make_user("facilitator@example.org", Role.FACILITATOR, staff).id
        make_user("startup@example.org", Role.STARTUP, make_org(OrgKind.STARTUP, "Some start-up"))
        db.session.commit()
    _english(app)
    result = app.test_cli_runner().invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    return ids


def _keys(ids: dict[str, int], challenge_ids) -> set[str]:
    names = {v: k for k, v in ids.items() if k in TEXTS}
    return {names[i] for i in challenge_ids}


def test_the_engine_clusters_real_texts_across_languages(real_app):
    ids = _seed_real(real_app)
    with real_app.app_context():
        clusters = service.find_clusters()
        groups = [_keys(ids, [c.id for c in cluster.challenges]) for cluster in clusters]
        # Three school-street challenges (two Dutch, one French) and two heat-island ones (Dutch,
        # English) make two groups; unrelated challenges join none; the draft never appears.
        assert sorted(groups, key=len) == [HEAT, SCHOOL]
        school = next(c for c in clusters if _keys(ids, [m.id for m in c.challenges]) == SCHOOL)
        # Gent's own cycling challenge is close to the school streets but never grouped with Gent's first.
        assert ids["gent_cycling"] not in {c.id for c in school.challenges}
        for cluster in clusters:
            assert len({c.organisation_id for c in cluster.challenges}) == len(cluster.challenges)
            assert cluster.similarity >= service.THRESHOLD
            # Every pair comes with its reasons: similarity, the passages that match best, shared themes.
            assert len(cluster.pairs) == len(cluster.challenges) * (len(cluster.challenges) - 1) // 2
            for pair in cluster.pairs:
                assert pair.passages and all(0 < s <= 1 for _, _, s in pair.passages)
                assert pair.passages[0][0] and pair.passages[0][1]
        assert school.themes == [Theme.MOBILITY]
        school_pairs = {frozenset(_keys(ids, [p.a.id, p.b.id])) for p in school.pairs}
        assert frozenset({"gent_school", "schaerbeek_school"}) in school_pairs
        clustered = {c.id for cluster in clusters for c in cluster.challenges}
        assert not clustered & {ids[k] for k in UNRELATED | {"antwerpen_draft"}}

        # The same engine, one challenge at a time: what its owner sees on the challenge page.
        gent_user = db.session.scalar(sa.select(User).where(User.email == "gent@example.org"))
        similar = service.similar_challenges(gent_user, db.session.get(Challenge, ids["gent_school"]))
        assert {"mechelen_school", "schaerbeek_school"} <= _keys(ids, [p.b.id for p in similar])
        assert not _keys(ids, [p.b.id for p in similar]) & (UNRELATED | {"gent_cycling", "antwerpen_draft"})
        mechelen_user = db.session.scalar(sa.select(User).where(User.email == "mechelen@example.org"))
        with pytest.raises(service.NotFound):
            service.similar_challenges(mechelen_user, db.session.get(Challenge, ids["gent_school"]))

        # The heavy part is callable without a page (a CLI or a job): it keeps both clusters as proposals.
        assert service.store_proposals() == 2
        assert service.store_proposals() == 0  # their challenges are now in open groups
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BuyerGroup).where(
            BuyerGroup.status == BuyerGroupStatus.PROPOSED)) == 2


def test_facilitator_confirms_a_cluster_and_the_municipalities_are_invited(real_app):
    ids = _seed_real(real_app)
    staff = real_app.test_client()
    login(staff, "facilitator@example.org")
    page = staff.get("/buyer-groups/suggestions").get_data(as_text=True)
    assert "Schoolstraten die werken zonder dagelijkse hekken" in page and "Cooling paved squares" in page
    assert "DRAFT-MARKER" not in page and "Digitale leeskoffers" not in page
    school_key = ",".join(str(i) for i in sorted(ids[k] for k in SCHOOL))
    assert f'value="{school_key}"' in page
    # A name too short: the cluster's form says so and keeps what was typed and ticked.
    page = staff.post("/buyer-groups/suggestions", data={
        "cluster": school_key, "name": "ab", "challenge_ids": [ids["gent_school"], ids["mechelen_school"]],
        "action": "confirm"}).get_data(as_text=True)
    assert 'value="ab"' in page and 'aria-invalid="true"' in page
    assert re.search(rf'name="challenge_ids" value="{ids["schaerbeek_school"]}"\s*>', page)  # left unticked
    response = staff.post("/buyer-groups/suggestions", data={
        "cluster": school_key, "name": "Schoolstraten zonder hekken",
        "challenge_ids": [ids[k] for k in SCHOOL], "action": "confirm"})
    assert response.status_code == 302
    group_id = int(re.search(r"/buyer-groups/(\d+)", response.location).group(1))
    with real_app.app_context():
        group = db.session.get(BuyerGroup, group_id)
        assert group.status == BuyerGroupStatus.CONFIRMED and group.confirmed_at is not None
        assert {m.challenge_id for m in group.members} == {ids[k] for k in SCHOOL}
        assert all(m.invitation == InvitationStatus.INVITED for m in group.members)
        assert group.reasons["similarity"] >= service.THRESHOLD and len(group.reasons["pairs"]) == 3
        invited = {db.session.get(User, n.user_id).email for n in db.session.scalars(
            sa.select(Notification).where(Notification.kind == "buyer_group.invited"))}
        assert invited == {"gent@example.org", "mechelen@example.org", "schaerbeek@example.org"}
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "buyer_group.confirm"))
    mails = outbox_messages(real_app)
    assert sum("Schoolstraten zonder hekken" in m for m in mails) == 3
    # The cluster now shows its members as taken; the group page shows the reasons and the experiment link.
    page = staff.get("/buyer-groups/suggestions").get_data(as_text=True)
    assert "Already in" in page
    detail = staff.get(f"/buyer-groups/{group_id}").get_data(as_text=True)
    assert f"/experiments/new?buyer_group={group_id}" in detail
    assert "Passages that match best" in detail

    # Gent's member sees similar challenges and the invitation on its own challenge page, and joins there.
    gent = real_app.test_client()
    login(gent, "gent@example.org")
    own_page = gent.get(f"/challenges/{ids['gent_school']}").get_data(as_text=True)
    assert "Similar challenges in other municipalities" in own_page
    assert "Des rues scolaires sans barrières" in own_page and "Schoolstraten zonder hekken" in own_page
    assert f'action="/buyer-groups/{group_id}/join"' in own_page
    back = f"/challenges/{ids['gent_school']}"
    response = gent.post(f"/buyer-groups/{group_id}/join", data={"back": back})
    assert response.status_code == 302 and response.location.endswith(back)
    # Another municipality reading Gent's public challenge sees no buyer-group panel.
    mechelen = real_app.test_client()
    login(mechelen, "mechelen@example.org")
    other_page = mechelen.get(f"/challenges/{ids['gent_school']}").get_data(as_text=True)
    assert "Similar challenges in other municipalities" not in other_page
    # A draft's owner is told to publish first; nothing of the engine shows.
    antwerpen = real_app.test_client()
    login(antwerpen, "antwerpen@example.org")
    draft_page = antwerpen.get(f"/challenges/{ids['antwerpen_draft']}").get_data(as_text=True)
    assert "Once the challenge is published" in draft_page


# ---- the workflow (fast test engine) -------------------------------------------------------

@pytest.fixture
def world(world, app):
    """The shared world, its users reading English (the source strings this module asserts on)."""
    _english(app)
    return world


def _english(app) -> None:
    with app.app_context():
        for user in db.session.scalars(sa.select(User)):
            user.locale = "en"
        db.session.commit()


def _third_municipality(app) -> tuple[int, int]:
    """Brugge with a member and a published challenge: (challenge id, user id)."""
    with app.app_context():
        brugge = make_org(OrgKind.MUNICIPALITY, "Brugge", "31005")
        user = make_user("brugge@example.org", Role.MUNICIPALITY, brugge)
        challenge = make_challenge(brugge, "Open challenge of Brugge")
        db.session.commit()
        return challenge.id, user.id


def _leuven_challenge(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Challenge.id).where(Challenge.title == "Open challenge of Leuven"))


def _group(app, world, challenge_ids, confirm=True) -> int:
    with app.test_request_context():  # invitations are mailed with absolute links
        actor = db.session.get(User, world.ids["facilitator"])
        return service.create(actor, "Gedeelde schoolstraten", challenge_ids, confirm=confirm).id


def _member(app, group_id: int, challenge_id: int) -> BuyerGroupMember:
    with app.app_context():
        return db.session.scalar(sa.select(BuyerGroupMember).where(
            BuyerGroupMember.group_id == group_id, BuyerGroupMember.challenge_id == challenge_id))


def test_join_and_decline_by_the_right_municipality_only(app, world):
    leuven = _leuven_challenge(app)
    brugge_challenge, _ = _third_municipality(app)
    group_id = _group(app, world, [world.ids["published"], leuven])
    gent = app.test_client()
    login(gent, world.emails["muniA"])
    assert gent.post(f"/buyer-groups/{group_id}/join").status_code == 302
    member = _member(app, group_id, world.ids["published"])
    assert member.invitation == InvitationStatus.JOINED and member.responded_by_id == world.ids["muniA"]
    with app.app_context():
        told = db.session.scalar(sa.select(Notification).where(Notification.kind == "buyer_group.join"))
        assert told is not None and told.user_id == world.ids["facilitator"]
    # Joining twice changes nothing and says so.
    page = gent.post(f"/buyer-groups/{group_id}/join", follow_redirects=True).get_data(as_text=True)
    assert "already gave this answer" in page
    # Leuven declines for its own challenge, and may change its mind while the group is open.
    leuven_client = app.test_client()
    login(leuven_client, world.emails["muniB"])
    assert leuven_client.post(f"/buyer-groups/{group_id}/decline").status_code == 302
    assert _member(app, group_id, leuven).invitation == InvitationStatus.DECLINED
    assert _member(app, group_id, world.ids["published"]).invitation == InvitationStatus.JOINED
    assert leuven_client.post(f"/buyer-groups/{group_id}/join").status_code == 302
    assert _member(app, group_id, leuven).invitation == InvitationStatus.JOINED
    # A municipality outside the group, a start-up and staff cannot answer for anyone.
    brugge = app.test_client()
    login(brugge, "brugge@example.org")
    assert brugge.post(f"/buyer-groups/{group_id}/decline").status_code == 404
    startup = app.test_client()
    login(startup, world.emails["suA"])
    assert startup.post(f"/buyer-groups/{group_id}/decline").status_code == 403
    staff = app.test_client()
    login(staff, world.emails["facilitator"])
    assert staff.post(f"/buyer-groups/{group_id}/decline").status_code == 403
    assert _member(app, group_id, world.ids["published"]).invitation == InvitationStatus.JOINED
    assert _member(app, group_id, leuven).invitation == InvitationStatus.JOINED
    assert brugge_challenge not in {m.challenge_id for m in _members(app, group_id)}


def _members(app, group_id: int) -> list[BuyerGroupMember]:
    with app.app_context():
        return list(db.session.get(BuyerGroup, group_id).members)


def test_who_sees_which_group(app, world):
    leuven = _leuven_challenge(app)
    brugge_challenge, _ = _third_municipality(app)
    confirmed = _group(app, world, [world.ids["published"], brugge_challenge])
    proposed = _group(app, world, [leuven, _second_challenge(app)], confirm=False)
    gent = app.test_client()
    login(gent, world.emails["muniA"])
    assert gent.get(f"/buyer-groups/{confirmed}").status_code == 200
    assert gent.get(f"/buyer-groups/{proposed}").status_code == 404
    index = gent.get("/buyer-groups/").get_data(as_text=True)
    assert f"/buyer-groups/{confirmed}" in index and f"/buyer-groups/{proposed}" not in index
    # Leuven's challenge is in the proposed group only: before it is confirmed Leuven sees nothing.
    leuven_client = app.test_client()
    login(leuven_client, world.emails["muniB"])
    assert leuven_client.get(f"/buyer-groups/{confirmed}").status_code == 404
    assert leuven_client.get(f"/buyer-groups/{proposed}").status_code == 404
    assert "Gedeelde schoolstraten" not in leuven_client.get("/buyer-groups/").get_data(as_text=True)
    startup = app.test_client()
    login(startup, world.emails["suA"])
    assert startup.get("/buyer-groups/").status_code == 403
    assert startup.get(f"/buyer-groups/{confirmed}").status_code == 403
    assert app.test_client().get(f"/buyer-groups/{confirmed}").status_code == 302
    staff = app.test_client()
    login(staff, world.emails["facilitator"])
    index = staff.get("/buyer-groups/").get_data(as_text=True)
    assert f"/buyer-groups/{confirmed}" in index and f"/buyer-groups/{proposed}" in index
    # A member challenge that is no longer public keeps its place, but not its text, for the others.
    with app.app_context():
        db.session.get(Challenge, brugge_challenge).status = ChallengeStatus.ARCHIVED
        db.session.commit()
    page = gent.get(f"/buyer-groups/{confirmed}").get_data(as_text=True)
    assert "Open challenge of Brugge" not in page and "No longer public" in page
    assert "Open challenge of Brugge" in staff.get(f"/buyer-groups/{confirmed}").get_data(as_text=True)


def _second_challenge(app) -> int:
    """Kortrijk with a published challenge (no member user)."""
    with app.app_context():
        kortrijk = make_org(OrgKind.MUNICIPALITY, "Kortrijk", "34022")
        challenge = make_challenge(kortrijk, "Open challenge of Kortrijk")
        db.session.commit()
        return challenge.id


def test_confirming_checks_the_input_and_writes_nothing_on_error(app, world):
    leuven = _leuven_challenge(app)
    staff = app.test_client()
    login(staff, world.emails["facilitator"])
    form = {"cluster": "x", "name": "ab", "challenge_ids": [world.ids["published"], leuven], "action": "confirm"}
    page = staff.post("/buyer-groups/suggestions", data=form).get_data(as_text=True)
    assert "between 3 and 160 characters" in page  # the name is too short
    # A draft, a single challenge, two challenges of one municipality: an error, nothing written.
    for ids, message in (([world.ids["published"], world.ids["draft"]], "Only published challenges"),
                         ([world.ids["published"]], "at least two challenges")):
        response = staff.post("/buyer-groups/suggestions",
                              data={**form, "name": "Een goede naam", "challenge_ids": ids})
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    with app.app_context():
        gent = db.session.get(Challenge, world.ids["published"]).organisation
        second = make_challenge(gent, "Another challenge of Gent")
        db.session.commit()
        second_id = second.id
    response = staff.post("/buyer-groups/suggestions",
                          data={**form, "name": "Een goede naam", "challenge_ids": [world.ids["published"], second_id]})
    assert "one challenge per municipality" in response.get_data(as_text=True)
    assert staff.post("/buyer-groups/suggestions", data={**form, "name": "Een goede naam", "action": "x"}).status_code \
        == 400
    assert staff.post("/buyer-groups/suggestions",
                      data={**form, "name": "Een goede naam", "challenge_ids": [world.ids["published"], 99999]}
                      ).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BuyerGroup)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    # A challenge already in an open group cannot join a second one.
    _group(app, world, [world.ids["published"], leuven])
    brugge_challenge, _ = _third_municipality(app)
    response = staff.post("/buyer-groups/suggestions", data={
        **form, "name": "Een goede naam", "challenge_ids": [world.ids["published"], brugge_challenge]})
    assert "Already in an open buyer group: Open challenge of Gent" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BuyerGroup)) == 1


def test_a_proposal_is_confirmed_later_and_a_closed_group_frees_its_challenges(app, world):
    leuven = _leuven_challenge(app)
    staff = app.test_client()
    login(staff, world.emails["facilitator"])
    response = staff.post("/buyer-groups/suggestions", data={
        "cluster": "x", "name": "Voorstel", "challenge_ids": [world.ids["published"], leuven], "action": "propose"})
    group_id = int(re.search(r"/buyer-groups/(\d+)", response.location).group(1))
    with app.app_context():
        assert db.session.get(BuyerGroup, group_id).status == BuyerGroupStatus.PROPOSED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    page = staff.post(f"/buyer-groups/{group_id}/confirm", data={"name": ""}).get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert staff.post(f"/buyer-groups/{group_id}/confirm", data={"name": "Schoolstraten samen"}).status_code == 302
    with app.app_context():
        group = db.session.get(BuyerGroup, group_id)
        assert group.status == BuyerGroupStatus.CONFIRMED and group.name == "Schoolstraten samen"
        notified = set(db.session.scalars(sa.select(Notification.user_id)))
        assert notified == {world.ids["muniA"], world.ids["muniB"]}
    assert staff.post(f"/buyer-groups/{group_id}/close").status_code == 302
    gent = app.test_client()
    login(gent, world.emails["muniA"])
    page = gent.post(f"/buyer-groups/{group_id}/join", follow_redirects=True).get_data(as_text=True)
    assert "closed" in page
    assert _member(app, group_id, world.ids["published"]).invitation == InvitationStatus.INVITED
    # The closed group no longer holds its challenges.
    assert _group(app, world, [world.ids["published"], leuven])
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "buyer_group.close"))


def test_the_challenge_page_panel_is_for_the_owner_and_staff_only(app, world):
    path = f"/challenges/{world.ids['published']}"
    heading = "Similar challenges in other municipalities"
    for principal, shown in (("muniA", True), ("facilitator", True), ("admin", True), ("muniB", False),
                             ("suA", False)):
        client = app.test_client()
        login(client, world.emails[principal])
        assert (heading in client.get(path).get_data(as_text=True)) is shown, principal
    assert heading not in app.test_client().get(path).get_data(as_text=True)


# ---- clustering rules ----------------------------------------------------------------------

def test_average_linkage_does_not_chain_and_keeps_one_challenge_per_municipality():
    # A chain a-b-c-d where only neighbours are similar: connected components would make one group.
    chain = np.array([[1.0, 0.7, 0.3, 0.1],
                      [0.7, 1.0, 0.7, 0.3],
                      [0.3, 0.7, 1.0, 0.7],
                      [0.1, 0.3, 0.7, 1.0]], dtype=np.float32)
    clusters = service.average_linkage(chain, [1, 2, 3, 4], 0.6)
    assert all(len(c) == 2 for c in clusters)
    # Owner 1 wrote two related challenges (0 and 3): the group keeps the closer one and stays whole.
    sims = np.array([[1.0, 0.79, 0.62, 0.59],
                     [0.79, 1.0, 0.65, 0.60],
                     [0.62, 0.65, 1.0, 0.68],
                     [0.59, 0.60, 0.68, 1.0]], dtype=np.float32)
    assert service.average_linkage(sims, [1, 2, 3, 1], 0.6) == [[0, 1, 2]]
    # Two challenges of one municipality alone are no group.
    assert service.average_linkage(np.array([[1.0, 0.9], [0.9, 1.0]]), [1, 1], 0.6) == []
