"""Procedure guidance: the route file, the recommender, choosing a route, and the pre-publication check."""
from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from itertools import product

import pytest
import sqlalchemy as sa

from proeftuin.enums import ChallengeStatus, Language, OrgKind, ProcurementRoute, Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Challenge, User
from proeftuin.services import guidance
from tests.conftest import PASSWORD, login, make_challenge, make_org, make_user

PIO_URL = "https://www.vlaio.be/nl/andere-doelgroepen/innovatieve-overheidsopdrachten"
TODAY = date(2026, 3, 2)

ANSWERS = {"market": "exists", "rnd": "no", "value": "500000", "months": "9", "pilot": "no"}


def _raw() -> dict:
    with open(guidance.ROUTES_FILE, encoding="utf-8") as handle:
        return json.load(handle)


# ---- the route file ------------------------------------------------------------------------

def test_route_file_has_every_route_in_three_languages_with_sources():
    catalogue = guidance.read_catalogue(guidance.ROUTES_FILE)
    assert set(catalogue.routes) == set(ProcurementRoute)
    for route, guide in catalogue.routes.items():
        for name in guidance.ROUTE_FIELDS:
            assert all(guide.texts[name][lang] for lang in ("nl", "fr", "en")), (route, name)
        assert guide.sources, route
        assert all(s.url.startswith(("https://", "http://")) and s.title for s in guide.sources)
    assert catalogue.pio_url == PIO_URL
    assert isinstance(catalogue.checked_on, date)
    # Amounts live in one place; route texts only refer to them.
    assert set(catalogue.thresholds) == set(guidance.THRESHOLD_KEYS)
    for route in _raw()["routes"].values():
        assert "000" not in json.dumps(route), "write amounts as {threshold} references"


def test_route_texts_are_shown_in_the_readers_language_with_thresholds_filled_in(app):
    catalogue = guidance.read_catalogue(guidance.ROUTES_FILE)
    assert catalogue.text("pre_commercial", "title", "fr") == "Achat public avant commercialisation (PCP)"
    assert catalogue.text("pre_commercial", "title", "de") == "Pre-commercial procurement (PCP)"  # English fallback
    dutch = catalogue.text("negotiated_low_value", "when", "nl")
    assert "{" not in dutch and "30.000 €" in dutch


@pytest.mark.parametrize("breakage, message", [
    (lambda raw: raw["routes"].pop("innovation_partnership"), "routes.innovation_partnership: missing"),
    (lambda raw: raw["routes"]["design_contest"]["when"].pop("fr"), "routes.design_contest.when: missing text in fr"),
    (lambda raw: raw["routes"]["pre_commercial"].update(sources=[]),
     "routes.pre_commercial: at least one source is needed"),
    (lambda raw: raw["routes"]["undecided"]["sources"][0].update(url="javascript:alert(1)"), "http(s) url"),
    (lambda raw: raw["thresholds"].pop("be_low_value"), "thresholds.be_low_value: missing"),
    (lambda raw: raw["routes"]["market_consultation"]["when"].update(nl="Onder {onbekend} euro."),
     "unknown threshold {onbekend}"),
    (lambda raw: raw.update(checked_on="soon"), "checked_on"),
    (lambda raw: raw["routes"].update(open_procedure=raw["routes"]["undecided"]), "unknown routes open_procedure"),
])
def test_loader_refuses_an_incomplete_file(breakage, message):
    raw = _raw()
    breakage(raw)
    with pytest.raises(guidance.RouteFileError) as caught:
        guidance.validate_catalogue(raw)
    assert message in str(caught.value)


def test_an_edited_file_is_used_without_code_and_a_broken_edit_keeps_the_last_good_one(tmp_path):
    path = tmp_path / "routes.json"
    raw = _raw()
    raw["routes"]["design_contest"]["title"]["nl"] = "Ontwerpwedstrijd"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert guidance.load_routes(path).text("design_contest", "title", "nl") == "Ontwerpwedstrijd"

    raw["routes"]["design_contest"]["title"]["nl"] = "Prijsvraag"
    path.write_text(json.dumps(raw), encoding="utf-8")
    os.utime(path, ns=(1, 10**18))
    assert guidance.load_routes(path).text("design_contest", "title", "nl") == "Prijsvraag"

    path.write_text("{ not json", encoding="utf-8")
    os.utime(path, ns=(1, 2 * 10**18))
    assert guidance.load_routes(path).text("design_contest", "title", "nl") == "Prijsvraag"
    with pytest.raises(guidance.RouteFileError, match="not valid JSON"):
        guidance.read_catalogue(path)


def test_cli_checks_the_route_file(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["guidance", "check-routes"])
    assert ok.exit_code == 0 and "8 routes" in ok.output
    broken = _raw()
    broken["routes"].pop("undecided")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    result = runner.invoke(args=["guidance", "check-routes", str(path)])
    assert result.exit_code != 0 and "routes.undecided: missing" in result.output


# ---- the recommender -----------------------------------------------------------------------

def _recommend(app, **answers):
    values = {"market": "exists", "rnd": "no", "value_eur": 500_000, "months": 9, "pilot": False, **answers}
    # English, so the reasons can be read in the assertions below.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        return guidance.recommend(guidance.Answers(**values), guidance.load_routes())


def _routes(rec) -> list[str]:
    return [a.route.value for a in rec.routes]


def test_research_leads_to_pcp_or_innovation_partnership_and_pio(app):
    with_pilot = _recommend(app, market="none", rnd="yes", pilot=True, months=24)
    assert _routes(with_pilot) == ["pre_commercial", "innovation_partnership"]
    assert with_pilot.pio and "PIO" in with_pilot.pio_reason
    assert all(a.reason for a in with_pilot.routes)
    without_pilot = _recommend(app, market="none", rnd="yes", pilot=False, months=24)
    assert _routes(without_pilot) == ["innovation_partnership", "pre_commercial"]


def test_research_with_a_short_timeline_adds_a_market_consultation(app):
    rec = _recommend(app, market="none", rnd="yes", pilot=True, months=6)
    assert _routes(rec) == ["pre_commercial", "innovation_partnership", "market_consultation"]
    assert "6" in rec.routes[2].reason


def test_existing_solutions_lead_to_consultation_then_negotiation(app):
    rec = _recommend(app, market="exists", rnd="no", value_eur=500_000)
    assert _routes(rec) == ["market_consultation", "competitive_negotiation"]
    assert not rec.pio
    assert any("European threshold" in note for note in rec.notes)


def test_small_value_proposes_negotiation_without_publication_first(app):
    rec = _recommend(app, market="exists", rnd="no", value_eur=25_000)
    assert _routes(rec)[0] == "negotiated_low_value"
    assert not any("European threshold" in note for note in rec.notes)
    small_pilot = _recommend(app, market="partly", rnd="no", value_eur=40_000, pilot=True)
    assert _routes(small_pilot)[1] == "negotiated_low_value" and "pilot" in small_pilot.routes[1].reason


def test_unsure_about_research_starts_with_a_market_consultation(app):
    rec = _recommend(app, market="partly", rnd="unsure")
    assert _routes(rec)[0] == "market_consultation" and rec.pio


def test_nothing_on_the_market_without_research_suggests_a_design_contest(app):
    rec = _recommend(app, market="none", rnd="no", value_eur=400_000)
    assert _routes(rec) == ["market_consultation", "competitive_dialogue", "design_contest"]


def test_every_combination_gives_one_to_three_distinct_routes(app):
    for market, rnd, value, months, pilot in product(
            guidance.MARKET_CHOICES, guidance.RND_CHOICES, (0, 29_999, 139_999, 140_000, 250_000), (1, 12, 48),
            (True, False)):
        rec = _recommend(app, market=market, rnd=rnd, value_eur=value, months=months, pilot=pilot)
        routes = _routes(rec)
        assert 1 <= len(routes) <= 3 and len(set(routes)) == len(routes), (market, rnd, value, months, pilot)
        assert "undecided" not in routes


# ---- the questionnaire page ----------------------------------------------------------------

def test_owner_answers_the_questions_and_sees_routes_with_sources_and_pio(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    url = f"/challenges/{world.ids['draft']}/guidance"
    page = client.get(url)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Precommerciële aankoop (PCP)" in body  # every route, in the reader's language
    response = client.post(url, data=dict(ANSWERS, market="none", rnd="yes", pilot="yes", months="24"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    recommended = body[body.index('id="recommendation"'):body.index('id="rules-heading"')]
    assert recommended.index("Precommerciële aankoop (PCP)") < recommended.index("Innovatiepartnerschap")
    assert "digital-strategy.ec.europa.eu/en/policies/pre-commercial-procurement" in recommended
    assert 'id="pio-heading"' in recommended and PIO_URL in recommended
    assert 'name="route" value="pre_commercial"' in recommended


def test_route_texts_follow_the_readers_language(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    client.post("/language", data={"locale": "fr"})
    body = client.post(f"/challenges/{world.ids['draft']}/guidance",
                       data=dict(ANSWERS, rnd="yes", pilot="yes", months="24")).get_data(as_text=True)
    assert "Achat public avant commercialisation (PCP)" in body and "Partenariat d&#39;innovation" in body


def test_bad_answers_are_field_errors_and_the_answers_stay(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    response = client.post(f"/challenges/{world.ids['draft']}/guidance",
                           data=dict(ANSWERS, months="0", value="123456", rnd=""))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="recommendation"' not in body
    assert body.count('aria-invalid="true"') == 2
    assert 'value="123456"' in body and 'value="0"' in body
    assert 'checked id="market-0"' in body and 'checked id="pilot-1"' in body


def test_staff_may_read_the_guidance_but_not_choose_the_route(app, world):
    client = app.test_client()
    login(client, world.emails["facilitator"])
    body = client.post(f"/challenges/{world.ids['draft']}/guidance", data=ANSWERS).get_data(as_text=True)
    assert 'id="recommendation"' in body and 'name="route"' not in body
    assert client.post(f"/challenges/{world.ids['draft']}/guidance/route",
                       data={"route": "market_consultation"}).status_code == 403


def test_other_organisations_do_not_see_the_guidance(app, world):
    other = app.test_client()
    login(other, world.emails["muniB"])
    assert other.get(f"/challenges/{world.ids['draft']}/guidance").status_code == 404
    assert other.get("/challenges/999999/guidance").status_code == 404
    startup = app.test_client()
    login(startup, world.emails["suA"])
    assert startup.get(f"/challenges/{world.ids['published']}/guidance").status_code == 403


# ---- choosing the recommended route --------------------------------------------------------

def _route_of(app, challenge_id: int) -> ProcurementRoute:
    with app.app_context():
        return db.session.get(Challenge, challenge_id).procurement_route


def _audit_actions(app, challenge_id: int) -> list[str]:
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "Challenge", AuditEvent.object_id == challenge_id)).all()


def test_owner_sets_the_recommended_route_with_an_audit_record(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    cid = world.ids["draft"]
    response = client.post(f"/challenges/{cid}/guidance/route", data={"route": "pre_commercial"})
    assert response.status_code == 302 and response.location.endswith(f"/challenges/{cid}")
    assert _route_of(app, cid) == ProcurementRoute.PRE_COMMERCIAL
    assert "Precommerciële aankoop" in client.get(f"/challenges/{cid}").get_data(as_text=True)
    assert _audit_actions(app, cid) == ["challenge.set_route"]
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "challenge.set_route"))
        assert event.detail == {"route": "pre_commercial", "previous": "undecided"}


def test_setting_a_route_is_refused_for_bad_values_other_municipalities_and_archived_challenges(app, world):
    cid = world.ids["draft"]
    owner = app.test_client()
    login(owner, world.emails["muniA"])
    assert owner.post(f"/challenges/{cid}/guidance/route", data={"route": "open_procedure"}).status_code == 400
    other = app.test_client()
    login(other, world.emails["muniB"])
    assert other.post(f"/challenges/{cid}/guidance/route", data={"route": "design_contest"}).status_code == 404
    with app.app_context():
        db.session.get(Challenge, cid).status = ChallengeStatus.ARCHIVED
        db.session.commit()
    response = owner.post(f"/challenges/{cid}/guidance/route", data={"route": "design_contest"},
                          follow_redirects=True)
    assert 'class="flash flash-error"' in response.get_data(as_text=True)
    assert _route_of(app, cid) == ProcurementRoute.UNDECIDED
    assert _audit_actions(app, cid) == []


def test_set_route_service_checks_the_route(app, world):
    with app.test_request_context():
        user = db.session.get(User, world.ids["muniA"])
        with pytest.raises(guidance.InvalidInput) as caught:
            guidance.set_route(user, world.ids["draft"], "somewhere")
        assert caught.value.field == "route"
        with pytest.raises(guidance.NotFound):
            guidance.set_route(db.session.get(User, world.ids["muniB"]), world.ids["draft"], "design_contest")


# ---- the pre-publication check -------------------------------------------------------------

CLEAN = {
    Language.NL: {
        "title": "Minder wachten aan het loket burgerzaken",
        "summary": "Inwoners wachten te lang aan het loket. We willen weten hoe dat korter kan.",
        "problem": (
            "Elke dag komen ongeveer tweehonderd inwoners naar het loket burgerzaken. "
            "Op maandag en na feestdagen staat de wachtrij tot buiten de deur. "
            "Ouderen en mensen met een beperking haken af en komen later terug. "
            "Onze medewerkers hebben geen zicht op de drukte van de komende uren. "
            "Afspraken maken kan online, maar weinig inwoners doen het. "
            "We hebben al extra personeel ingezet op piekmomenten, zonder veel resultaat. "
            "We zoeken partners die samen met ons uitzoeken waar de wachttijd vandaan komt."
        ),
        "desired_outcome": "De gemiddelde wachttijd daalt van 40 naar 15 minuten binnen een jaar.",
        "evaluation_criteria": "Impact op de wachttijd (40%), haalbaarheid (30%), prijs (30%).",
    },
    Language.FR: {
        "title": "Moins d'attente au guichet de la population",
        "summary": "Les habitants attendent trop longtemps au guichet. Nous voulons savoir comment réduire l'attente.",
        "problem": (
            "Chaque jour, environ deux cents habitants se présentent au guichet de la population. "
            "Le lundi et après les jours fériés, la file d'attente déborde jusque dans la rue. "
            "Les personnes âgées et les personnes handicapées abandonnent et reviennent plus tard. "
            "Nos agents ne savent pas combien de monde viendra dans les prochaines heures. "
            "La prise de rendez-vous en ligne existe, mais peu d'habitants l'utilisent. "
            "Nous avons déjà ajouté du personnel aux heures de pointe, sans grand résultat."
        ),
        "desired_outcome": "Le temps d'attente moyen passe de 40 à 15 minutes en un an.",
        "evaluation_criteria": "Impact sur l'attente (40 %), faisabilité (30 %), prix (30 %).",
    },
}


def _challenge(language: Language = Language.NL, **changes) -> Challenge:
    fields = dict(CLEAN[language], language=language, budget_min=20_000, budget_max=60_000,
                  deadline=TODAY + timedelta(days=45), status=ChallengeStatus.DRAFT)
    fields.update(changes)
    return Challenge(**fields)


def _codes(app, challenge: Challenge) -> list[str]:
    with app.test_request_context():
        return [f.code for f in guidance.check_challenge(challenge, TODAY)]


@pytest.mark.parametrize("language", [Language.NL, Language.FR])
def test_a_clean_challenge_has_no_findings(app, language):
    assert len(CLEAN[language]["problem"]) >= guidance.MIN_PROBLEM_CHARS
    assert _codes(app, _challenge(language)) == []


@pytest.mark.parametrize("language, where, text", [
    (Language.NL, "problem", "Het probleem is complex. Daarom zoeken we een oplossing. Wij willen een platform voor "
                             "alle meldingen."),
    (Language.NL, "title", "We zoeken een app voor parkeren"),
    (Language.NL, "summary", "Wij hebben nood aan een slim dashboard voor de energiemeters."),
    (Language.NL, "problem", "Uitleg. We hebben een nieuwe website nodig voor de bibliotheek."),
    (Language.FR, "problem", "Le problème est complexe. Nous cherchons une application mobile pour les parkings."),
    (Language.FR, "summary", "Nous avons besoin d'un logiciel de planification pour nos équipes."),
    (Language.FR, "title", "Nous voulons une plateforme citoyenne"),
    (Language.FR, "problem", "On cherche un tableau de bord pour suivre la consommation."),
])
def test_prescribing_a_solution_is_flagged(app, language, where, text):
    challenge = _challenge(language)
    if where == "problem":
        text = CLEAN[language]["problem"] + " " + text
    setattr(challenge, where, text)
    with app.test_request_context():
        findings = guidance.check_challenge(challenge, TODAY)
    assert [f.code for f in findings] == ["prescribes_solution"]
    assert findings[0].field == where and findings[0].severity == "warning"


def test_describing_the_current_situation_is_not_a_prescribed_solution(app):
    text = CLEAN[Language.NL]["problem"] + " Het huidige platform van de stad is traag. De app van de lijn werkt."
    assert _codes(app, _challenge(problem=text)) == []
    assert _codes(app, _challenge(Language.FR, problem=CLEAN[Language.FR]["problem"] +
                                  " L'application actuelle ne suffit pas.")) == []


@pytest.mark.parametrize("language", [Language.NL, Language.FR])
def test_each_flaw_is_found(app, language):
    assert _codes(app, _challenge(language, evaluation_criteria=None)) == ["no_evaluation_criteria"]
    assert _codes(app, _challenge(language, evaluation_criteria="  prijs ")) == ["no_evaluation_criteria"]
    assert _codes(app, _challenge(language, deadline=None)) == ["no_deadline"]
    assert _codes(app, _challenge(language, deadline=TODAY + timedelta(days=27))) == ["deadline_too_short"]
    assert _codes(app, _challenge(language, deadline=TODAY + timedelta(days=28))) == []
    assert _codes(app, _challenge(language, deadline=TODAY - timedelta(days=1))) == ["deadline_passed"]
    outcome = {Language.NL: "Minder wachten en tevreden inwoners.",
               Language.FR: "Moins d'attente et des habitants satisfaits."}[language]
    assert _codes(app, _challenge(language, desired_outcome=outcome)) == ["outcome_not_measurable"]
    short = CLEAN[language]["problem"][:300]
    assert _codes(app, _challenge(language, problem=short)) == ["problem_too_short"]
    long_sentence = " ".join([CLEAN[language]["problem"].replace(". ", ", ").rstrip(".")] * 2) + "."
    assert _codes(app, _challenge(language, problem=long_sentence)) == ["long_sentences"]
    assert _codes(app, _challenge(language, budget_min=None, budget_max=None)) == ["no_budget"]
    assert _codes(app, _challenge(language, budget_min=None, budget_max=50_000)) == []


def test_findings_have_messages_and_the_most_serious_comes_first(app):
    challenge = _challenge(problem="Te kort.", budget_min=None, budget_max=None, evaluation_criteria=None,
                           deadline=TODAY - timedelta(days=3))
    with app.test_request_context():
        findings = guidance.check_challenge(challenge, TODAY)
    assert findings[0].code == "deadline_passed" and findings[0].severity == "error"
    assert [f.severity for f in findings] == sorted((f.severity for f in findings),
                                                    key=guidance.SEVERITY_ORDER.get)
    assert all(f.message and f.severity_label for f in findings)
    short = next(f for f in findings if f.code == "problem_too_short")
    assert "8" in short.message and "400" in short.message


def test_owner_sees_the_check_on_a_draft_and_can_still_publish(app, world):
    cid = world.ids["draft"]
    with app.app_context():
        challenge = db.session.get(Challenge, cid)
        challenge.problem = "Wij willen een platform voor meldingen."
        challenge.deadline = date.today() + timedelta(days=10)
        db.session.commit()
    owner = app.test_client()
    login(owner, world.emails["muniA"])
    body = owner.get(f"/challenges/{cid}").get_data(as_text=True)
    assert 'id="challenge-check"' in body
    for code in ("prescribes_solution", "deadline_too_short", "no_evaluation_criteria", "no_budget"):
        assert f'data-code="{code}"' in body
    assert "\u201cWij willen een platform\u201d" in body
    assert f'/challenges/{cid}/guidance"' in body  # the link to the guidance page
    staff = app.test_client()
    login(staff, world.emails["facilitator"])
    assert 'id="challenge-check"' not in staff.get(f"/challenges/{cid}").get_data(as_text=True)

    assert owner.post(f"/challenges/{cid}/status", data={"action": "publish"}).status_code == 302
    assert _route_of(app, cid) == ProcurementRoute.UNDECIDED
    with app.app_context():
        assert db.session.get(Challenge, cid).status == ChallengeStatus.PUBLISHED
    assert 'id="challenge-check"' not in owner.get(f"/challenges/{cid}").get_data(as_text=True)


def test_edit_form_links_to_the_guide_only_for_an_existing_challenge(app, world):
    client = app.test_client()
    login(client, world.emails["muniA"])
    link = f'/challenges/{world.ids["draft"]}/guidance"'
    assert link in client.get(f"/challenges/{world.ids['draft']}/edit").get_data(as_text=True)
    assert "/guidance" not in client.get("/challenges/new").get_data(as_text=True)


def test_route_buttons_carry_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        org = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("owner@example.org", Role.MUNICIPALITY, org)
        cid = make_challenge(org, "Veilige schoolstraten", ChallengeStatus.DRAFT).id
        db.session.commit()
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"email": "owner@example.org", "password": PASSWORD,
                                     "csrf_token": token.group(1)})
    page = client.get(f"/challenges/{cid}/guidance").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = client.post(f"/challenges/{cid}/guidance", data=dict(ANSWERS, csrf_token=token)).get_data(as_text=True)
    form = body[body.index(f'action="/challenges/{cid}/guidance/route"'):]
    form_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form[:form.index("</form>")]).group(1)
    assert client.post(f"/challenges/{cid}/guidance/route",
                       data={"route": "market_consultation", "csrf_token": form_token}).status_code == 302
    assert _route_of(app, cid) == ProcurementRoute.MARKET_CONSULTATION


def test_the_app_refuses_to_start_with_a_broken_route_file(make_app, tmp_path):
    broken = _raw()
    broken["routes"]["pre_commercial"]["startups"].pop("nl")
    path = tmp_path / "routes.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(guidance.RouteFileError, match="routes.pre_commercial.startups: missing text in nl"):
        make_app(reset=False, PROCUREMENT_ROUTES_FILE=str(path))
