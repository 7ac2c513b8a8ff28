"""The expert pool: profiles, questions routed to experts, the thread, the answer, the knowledge base."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from proeftuin.enums import ExpertArea, Language, OrgKind, QuestionStatus, Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Embedding, ExpertProfile, ExpertQuestion, Notification, Organisation, User
from proeftuin.services import anonymiser, matching
from proeftuin.services import experts as expert_service
from tests.conftest import login, make_challenge, make_org, make_user, outbox_messages

PRIVACY = ("Data protection and privacy in public pilots: GDPR, data protection impact assessments, processing "
           "agreements with suppliers, camera and sensor data in public space, retention of personal data.")
IP_CONTRACTS_FR = ("Propriété intellectuelle et contrats: droits sur les résultats d'un projet pilote, licences "
                   "d'utilisation pour la commune, accords de confidentialité, clauses de responsabilité et "
                   "conventions de pilote avec des start-ups.")
ENERGY = ("Technical advice on energy in public buildings: heat pumps, solar panels, insulation, building "
          "management systems and the measurement of energy savings.")


def _expert(email: str, name: str, areas, expertise: str, languages=("nl", "en"),
            language: Language = Language.EN, available: bool = True) -> int:
    """A facilitator with an expertise profile, encoded by the engine; returns the user id."""
    staff_org = db.session.scalar(sa.select(User).where(User.role == Role.FACILITATOR)).organisation
    user = make_user(email, Role.FACILITATOR, staff_org)
    user.name = name
    profile = ExpertProfile(user_id=user.id, areas=[a.value for a in areas], expertise=expertise,
                            languages=list(languages), language=language, available=available)
    db.session.add(profile)
    db.session.commit()
    matching.sync_object(profile)
    return user.id


def _question(world, title="Mag de gemeente dit doen?", text="Een vraag over de procedure, in detail.",
              area=ExpertArea.PROCEDURES, **extra) -> int:
    question = ExpertQuestion(organisation_id=world.ids["org_muniA"], asked_by_id=world.ids["muniA"],
                              area=area.value, title=title, question=text, language=Language.NL, **extra)
    db.session.add(question)
    db.session.commit()
    return question.id


def _client(app, email: str):
    """A signed-in client that reads the pages in English (the labels the assertions use)."""
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.post("/language", data={"locale": "en"})
    return client


def _notifications(user_id: int, kind: str) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id,
                                                                  Notification.kind == kind)))


ASK = {"title": "Wie is eigenaar van de resultaten?",
       "question": "Wij starten een pilootproject met een start-up. Wie wordt eigenaar van de software?",
       "area": "ip_and_contracts", "language": "nl", "challenge_id": ""}


# ---- profiles ------------------------------------------------------------------------------

def test_facilitator_keeps_an_expertise_profile_that_the_engine_encodes(app, world):
    client = _client(app, world.emails["facilitator"])
    page = client.get("/experts/profile")
    assert page.status_code == 200 and "Public procurement law" in page.get_data(as_text=True)
    data = {"areas": ["procurement_law", "procedures"], "expertise": "Procurement law: thresholds, innovation "
            "partnerships and competitive dialogue for local governments.", "language": "en",
            "languages": ["nl", "fr"], "available": "y"}
    assert client.post("/experts/profile", data=data).status_code == 302
    with app.app_context():
        profile = db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == world.ids["facilitator"]))
        assert profile.areas == ["procurement_law", "procedures"] and profile.languages == ["nl", "fr"]
        assert profile.available
        assert db.session.scalar(sa.select(Embedding).where(Embedding.object_type == "expert",
                                                            Embedding.object_id == profile.id)).vectors
        assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_type == "ExpertProfile")) \
            == "expert.profile_create"
    pool = client.get("/experts/").get_data(as_text=True)
    assert "facilitator" in pool and "Procurement procedures" in pool and "French" in pool

    # Marking oneself unavailable takes the profile out of the engine's index.
    client.post("/experts/profile", data={k: v for k, v in data.items() if k != "available"})
    with app.app_context():
        profile = db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == world.ids["facilitator"]))
        assert not profile.available
        assert db.session.scalar(sa.select(Embedding.vectors).where(Embedding.object_type == "expert",
                                                                    Embedding.object_id == profile.id)) is None


def test_profile_without_area_is_a_field_error_and_keeps_the_text(app, world):
    client = _client(app, world.emails["facilitator"])
    text = "My expertise text that must stay on the page after the error."
    page = client.post("/experts/profile", data={"expertise": text, "language": "en", "languages": ["en"]})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and text in body and 'aria-invalid="true"' in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExpertProfile)) == 0


def test_only_staff_see_the_pool_and_profiles(app, world):
    for who in ("muniA", "suA"):
        client = _client(app, world.emails[who])
        assert client.get("/experts/").status_code == 403
        assert client.post("/experts/profile", data={"expertise": "x" * 40}).status_code == 403


# ---- asking --------------------------------------------------------------------------------

def test_municipality_asks_about_its_challenge_and_facilitators_are_told(app, world):
    client = _client(app, world.emails["muniA"])
    form = client.get(f"/questions/new?challenge={world.ids['published']}").get_data(as_text=True)
    assert f'<option selected value="{world.ids["published"]}"' in form
    assert '<option selected value="en"' in form  # the language of the interface
    response = client.post("/questions/new", data=dict(ASK, challenge_id=str(world.ids["published"])))
    assert response.status_code == 302
    question_id = int(response.location.rsplit("/", 1)[1])
    with app.app_context():
        question = db.session.get(ExpertQuestion, question_id)
        assert question.status == QuestionStatus.OPEN and question.challenge_id == world.ids["published"]
        assert question.organisation_id == world.ids["org_muniA"] and question.area == "ip_and_contracts"
        assert _notifications(world.ids["facilitator"], "question.new")
        assert not _notifications(world.ids["admin"], "question.new")
    assert any("Wie is eigenaar van de resultaten?" in m and world.emails["facilitator"] in m
               for m in outbox_messages(app))
    assert "Wie is eigenaar" in client.get("/questions/").get_data(as_text=True)
    detail = client.get(f"/questions/{question_id}").get_data(as_text=True)
    assert "Wie wordt eigenaar van de software?" in detail and "Proposed experts" not in detail

    other = _client(app, world.emails["muniB"])
    assert "Wie is eigenaar" not in other.get("/questions/").get_data(as_text=True)


def test_question_about_another_municipalitys_challenge_is_refused_and_keeps_the_text(app, world):
    with app.app_context():
        muni_b = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Leuven"))
        foreign = make_challenge(muni_b, "Leuven's own challenge").id
        db.session.commit()
    client = _client(app, world.emails["muniA"])
    page = client.post("/questions/new", data=dict(ASK, challenge_id=str(foreign)))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Wie wordt eigenaar van de software?" in body
    assert 'aria-invalid="true"' in body and "Leuven&#39;s own challenge" not in body
    short = client.post("/questions/new", data=dict(ASK, title="Kort"))
    assert short.status_code == 200 and "Wie wordt eigenaar van de software?" in short.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ExpertQuestion)) == 0


# ---- who may read --------------------------------------------------------------------------

def test_who_may_read_a_question(app, world):
    with app.app_context():
        question_id = _question(world, text="Vertrouwelijke vraag SECRET-Q-MARKER van Gent.")
    url = f"/questions/{question_id}"
    expected = {"muniA": 200, "muniB": 404, "suA": 403, "suB": 403, "facilitator": 200, "admin": 200}
    for who, status in expected.items():
        client = _client(app, world.emails[who])
        response = client.get(url)
        assert response.status_code == status, who
        if status != 200:
            assert "SECRET-Q-MARKER" not in response.get_data(as_text=True)
    muni_b = _client(app, world.emails["muniB"])
    assert muni_b.post(url + "/messages", data={"body": "Hallo"}).status_code == 404
    assert muni_b.get("/questions/99999").status_code == 404
    anon = app.test_client()
    assert anon.get(url).status_code == 302 and "/auth/login" in anon.get(url).location
    assert anon.get("/questions/").status_code == 302
    assert anon.get("/knowledge/").status_code == 200
    # Unpublished: not in the knowledge base for anyone, staff included.
    staff = _client(app, world.emails["facilitator"])
    assert staff.get(f"/knowledge/{question_id}").status_code == 404
    assert anon.get(f"/knowledge/{question_id}").status_code == 404


# ---- proposing, assigning, thread and answer -----------------------------------------------

def test_engine_proposes_the_expert_whose_expertise_fits_with_reasons(app, world):
    with app.app_context():
        privacy = _expert("privacy@example.org", "Pia Privacy", [ExpertArea.DATA_AND_PRIVACY], PRIVACY)
        energy = _expert("energy@example.org", "Eddy Energy", [ExpertArea.TECHNICAL], ENERGY, languages=("en",))
        _expert("away@example.org", "Away Expert", [ExpertArea.DATA_AND_PRIVACY], PRIVACY, available=False)
        question_id = _question(world, title="Camera data and GDPR", area=ExpertArea.DATA_AND_PRIVACY,
                                text="Can we keep camera data of the school street? What does the GDPR say "
                                     "about retention of personal data and a data protection impact assessment?")
        question = db.session.get(ExpertQuestion, question_id)
        proposals = expert_service.propose_experts(question)
        assert [p.profile.user_id for p in proposals] == [privacy, energy]
        best = proposals[0]
        assert {r["code"] for r in best.reasons} == {"area", "language"}
        assert best.terms and best.passages
        assert not any(r["code"] == "language" for r in proposals[1].reasons)  # Eddy does not speak Dutch
    client = _client(app, world.emails["facilitator"])
    page = client.get(f"/questions/{question_id}").get_data(as_text=True)
    assert "Proposed experts" in page and "Away Expert" not in page
    assert page.index("Pia Privacy") < page.index("Eddy Energy")
    # The assignment form proposes the best expert and a due date ten working days away.
    assert re.search(rf'<option selected value="{privacy}">', page)
    due = expert_service.add_working_days(date.today(), 10)
    assert f'value="{due.isoformat()}"' in page


def test_working_days_skip_weekends():
    friday = date(2026, 3, 6)
    assert expert_service.add_working_days(friday, 1) == date(2026, 3, 9)
    assert expert_service.add_working_days(friday, 10) == date(2026, 3, 20)


def test_assign_thread_and_answer_tell_the_other_side(app, world):
    with app.app_context():
        expert = _expert("ip@example.org", "Ines IP", [ExpertArea.IP_AND_CONTRACTS], IP_CONTRACTS_FR,
                         languages=("fr", "nl"), language=Language.FR)
        colleague = make_user("colleague@example.org", Role.MUNICIPALITY,
                              db.session.get(User, world.ids["muniA"]).organisation).id
        db.session.commit()
        question_id = _question(world, title="Eigendom van de software")
    url = f"/questions/{question_id}"
    staff = _client(app, world.emails["facilitator"])
    due = date.today() + timedelta(days=12)
    assert staff.post(url + "/assign", data={"expert_id": str(expert), "due_on": due.isoformat()}).status_code == 302
    with app.app_context():
        question = db.session.get(ExpertQuestion, question_id)
        assert question.status == QuestionStatus.ASSIGNED and question.expert_id == expert
        assert question.due_on == due and question.assigned_by_id == world.ids["facilitator"]
        assert _notifications(expert, "question.assigned")
        assert _notifications(world.ids["muniA"], "question.assigned")
    assert any("ip@example.org" in m and "Eigendom van de software" in m for m in outbox_messages(app))

    # The municipality writes: the expert is told, not the municipality itself.
    muni = _client(app, world.emails["muniA"])
    assert muni.post(url + "/messages", data={"body": "Het gaat om open source software."}).status_code == 302
    with app.app_context():
        assert _notifications(expert, "question.message")
        assert not _notifications(world.ids["muniA"], "question.message")
    # The expert writes back: the municipality's members are told.
    expert_client = _client(app, "ip@example.org")
    assert expert_client.post(url + "/messages", data={"body": "Welke licentie?"}).status_code == 302
    with app.app_context():
        assert _notifications(world.ids["muniA"], "question.message")
        assert _notifications(colleague, "question.message")
    thread = muni.get(url).get_data(as_text=True)
    assert thread.index("Het gaat om open source software.") < thread.index("Welke licentie?")

    # The expert answers: the municipality is told by e-mail and sees the answer.
    before = set(outbox_messages(app))
    answer = "De gemeente kan een gebruikslicentie bedingen; de start-up blijft eigenaar van de code."
    assert expert_client.post(url + "/answer", data={"answer": answer}).status_code == 302
    with app.app_context():
        question = db.session.get(ExpertQuestion, question_id)
        assert question.status == QuestionStatus.ANSWERED and question.answered_at is not None
        assert _notifications(colleague, "question.answered")
        actions = db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "ExpertQuestion", AuditEvent.object_id == question_id)
            .order_by(AuditEvent.id)).all()
        assert actions == ["question.assign", "question.message", "question.message", "question.answer"]
    mails = [m for m in outbox_messages(app) if m not in before]
    assert any(world.emails["muniA"] in m and "colleague@example.org" not in m for m in mails)
    assert answer in muni.get(url).get_data(as_text=True)
    # Answered: it can no longer be assigned or answered again; staff close it, and the thread stops.
    again = staff.post(url + "/answer", data={"answer": "Another answer that is long enough."}, follow_redirects=True)
    assert "already answered" in again.get_data(as_text=True)
    assert staff.post(url + "/close").status_code == 302
    closed = muni.post(url + "/messages", data={"body": "Nog een vraag"}, follow_redirects=True)
    assert "This question is closed." in closed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ExpertQuestion, question_id).status == QuestionStatus.CLOSED
        assert len(db.session.get(ExpertQuestion, question_id).messages) == 2


def test_bad_assignment_and_short_answer_keep_the_input(app, world):
    with app.app_context():
        expert = _expert("ip@example.org", "Ines IP", [ExpertArea.IP_AND_CONTRACTS], IP_CONTRACTS_FR)
        away = _expert("away@example.org", "Away Expert", [ExpertArea.IP_AND_CONTRACTS], PRIVACY, available=False)
        question_id = _question(world)
    url = f"/questions/{question_id}"
    staff = _client(app, world.emails["facilitator"])
    past = staff.post(url + "/assign", data={"expert_id": str(expert), "due_on": "2020-01-01"})
    assert past.status_code == 200 and 'aria-invalid="true"' in past.get_data(as_text=True)
    assert 'value="2020-01-01"' in past.get_data(as_text=True)
    unavailable = staff.post(url + "/assign", data={"expert_id": str(away), "due_on": "2099-01-01"})
    assert unavailable.status_code == 200
    short = staff.post(url + "/answer", data={"answer": "Te kort, bewaard"})
    assert short.status_code == 200 and "Te kort, bewaard" in short.get_data(as_text=True)
    empty = staff.post(url + "/messages", data={"body": "   "})
    assert empty.status_code == 200 and 'aria-invalid="true"' in empty.get_data(as_text=True)
    with app.app_context():
        question = db.session.get(ExpertQuestion, question_id)
        assert question.status == QuestionStatus.OPEN and question.expert_id is None and question.answer is None
        assert not question.messages


# ---- overdue -------------------------------------------------------------------------------

def test_overdue_questions_are_flagged_in_the_staff_list(app, world):
    with app.app_context():
        expert = _expert("ip@example.org", "Ines IP", [ExpertArea.IP_AND_CONTRACTS], IP_CONTRACTS_FR)
        yesterday = date.today() - timedelta(days=1)
        late = _question(world, title="Late question", status=QuestionStatus.ASSIGNED, expert_id=expert,
                         due_on=yesterday)
        _question(world, title="Answered late question", status=QuestionStatus.ANSWERED, expert_id=expert,
                  due_on=yesterday, answer="An answer.")
        _question(world, title="Question in time", status=QuestionStatus.ASSIGNED, expert_id=expert,
                  due_on=date.today() + timedelta(days=3))
        assert expert_service.is_overdue(db.session.get(ExpertQuestion, late))
    client = _client(app, world.emails["facilitator"])
    page = client.get("/questions/").get_data(as_text=True)
    assert page.count('class="overdue"') == 1
    row = page[page.index("Late question"):]
    assert row.index('class="overdue"') < row.index("</tr>")
    overdue = client.get("/questions/?overdue=1").get_data(as_text=True)
    assert "Late question" in overdue and "Question in time" not in overdue and "Answered late" not in overdue
    assert "Late question" in client.get(f"/questions/{late}").get_data(as_text=True)
    assert 'class="overdue"' in client.get(f"/questions/{late}").get_data(as_text=True)
    assert client.get("/questions/?status=bogus").status_code == 400
    assert client.get("/questions/?area=astrology").status_code == 400
    assert client.get("/questions/?overdue=yes").status_code == 400
    mine = _client(app, "ip@example.org")
    own = mine.get("/questions/?mine=1").get_data(as_text=True)
    assert all(t in own for t in ("Late question", "Question in time", "Answered late question"))
    assert "Late question" not in client.get("/questions/?mine=1").get_data(as_text=True)


# ---- publishing to the knowledge base ------------------------------------------------------

CONFIDENTIAL_QUESTION = ("Stad Gent wil met de Gentse haven een pilootproject starten. Mag de gemeente Gent "
                         "de software na de piloot blijven gebruiken? Contact: muniA, muniA@example.org "
                         "of jan.peeters@stad.gent, tel. 09 266 50 00.")
CONFIDENTIAL_ANSWER = ("Beste muniA, voor Gand (Gent) geldt de wet van 17/06/2016: de gemeente kan een "
                       "gebruikslicentie bedingen in de pilootovereenkomst. Bel gerust +32 470 12 34 56.")


def _answered(world) -> int:
    return _question(world, title="Softwarelicentie voor Gent", text=CONFIDENTIAL_QUESTION,
                     area=ExpertArea.IP_AND_CONTRACTS, status=QuestionStatus.ANSWERED,
                     expert_id=world.ids["facilitator"], answer=CONFIDENTIAL_ANSWER,
                     answered_at=datetime.now(UTC))


IDENTIFYING = ("Gent", "Gand", "Gentse", "muniA", "@example.org", "jan.peeters", "266 50 00", "470 12 34 56")


def test_publish_an_anonymised_copy_that_staff_can_correct(app, world):
    with app.app_context():
        question_id = _answered(world)
    staff = _client(app, world.emails["facilitator"])
    form = staff.get(f"/questions/{question_id}/publish").get_data(as_text=True)
    fields = "".join(re.findall(r"<textarea[^>]*>(.*?)</textarea>", form, re.S))
    fields += "".join(re.findall(r'<input[^>]*name="title"[^>]*value="([^"]*)"', form))
    for term in IDENTIFYING:
        assert term not in fields, term
    # The placeholders are written in the question's language (Dutch here).
    with app.test_request_context():
        place = anonymiser.placeholder("place", "nl")
    assert place in fields and "[e-mailadres]" in fields and "[telefoonnummer]" in fields
    assert "17/06/2016" in fields  # a date is not a phone number
    assert "pilootovereenkomst" in fields

    # Staff put a name back: refused on that field, their text kept, nothing published.
    title = "Softwarelicentie na een piloot"
    bad = staff.post(f"/questions/{question_id}/publish", data={
        "title": title, "question": "Mag de gemeente Leuven of Gent de software blijven gebruiken?",
        "answer": "De gemeente kan een gebruikslicentie bedingen in de pilootovereenkomst.", "confirm": "y"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "Mag de gemeente Leuven of Gent" in body and 'aria-invalid="true"' in body
    assert "Remove \u201cLeuven\u201d" in body
    with app.app_context():
        assert not db.session.get(ExpertQuestion, question_id).published

    good = staff.post(f"/questions/{question_id}/publish", data={
        "title": title, "question": "Mag een gemeente de software na de piloot blijven gebruiken?",
        "answer": "De gemeente kan een gebruikslicentie bedingen in de pilootovereenkomst.", "confirm": "y"})
    assert good.status_code == 302 and good.location.endswith(f"/knowledge/{question_id}")
    anon = app.test_client()
    listing = anon.get("/knowledge/?q=gebruikslicentie").get_data(as_text=True)
    entry = anon.get(f"/knowledge/{question_id}").get_data(as_text=True)
    assert title in listing and title in entry
    for page in (listing, entry):
        for term in (*IDENTIFYING, "Stad Gent", "Softwarelicentie voor Gent"):
            assert term not in page, term
    # The search reads the public copy only: words of the original find nothing.
    assert title not in anon.get("/knowledge/?q=haven").get_data(as_text=True)
    assert title in anon.get("/knowledge/?area=ip_and_contracts").get_data(as_text=True)
    assert title not in anon.get("/knowledge/?area=technical").get_data(as_text=True)
    assert anon.get("/knowledge/?area=astrology").status_code == 400

    # Taken out again: gone from the knowledge base.
    assert staff.post(f"/questions/{question_id}/unpublish").status_code == 302
    assert anon.get(f"/knowledge/{question_id}").status_code == 404
    assert title not in anon.get("/knowledge/").get_data(as_text=True)
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == question_id)))
        assert {"question.publish", "question.unpublish"} <= actions


def test_open_questions_cannot_be_published_and_municipalities_cannot_publish(app, world):
    with app.app_context():
        open_id = _question(world)
        answered_id = _answered(world)
    staff = _client(app, world.emails["facilitator"])
    response = staff.get(f"/questions/{open_id}/publish")
    assert response.status_code == 302 and response.location.endswith(f"/questions/{open_id}")
    muni = _client(app, world.emails["muniA"])
    assert muni.post(f"/questions/{answered_id}/publish", data={"title": "x" * 10, "question": "y" * 30,
                                                                "answer": "z" * 30}).status_code == 403
    with app.app_context():
        assert not db.session.get(ExpertQuestion, answered_id).published


def test_anonymise_handles_names_mail_and_phone_numbers(app, world):
    with app.app_context():
        question_id = _answered(world)
        question = db.session.get(ExpertQuestion, question_id)
        found = expert_service.identifiers(question)
        text = expert_service.anonymise("Gent, Gand en Gentse; 0470/12.34.56; a.b@c.be; 1 000 000 000 euro; "
                                        "artikel 42; 01/01/2025; agenten.", found, "nl")
        assert "Gent" not in text and "Gand" not in text and "0470" not in text and "a.b@c.be" not in text
        assert "1 000 000 000 euro" in text and "artikel 42" in text and "01/01/2025" in text
        assert "agenten" in text
        assert expert_service.leftover(text, found) is None


LEAKY_QUESTION = ("Beste, ik ben Jan Peeters uit de wijk Rabot en we werken met de start-up Sensotec. Mail "
                  "jan at gent dot be, jan(at)gent.be of jan [at] gent [dot] be, of bel +32 9 123 45 67, "
                  "0032 9/123.45.67 of 0470 12 34 56. Adres: Kerkstraat 12 bus 3, 9000 Gent; in Brussel "
                  "rue de la Loi 16 boîte 2. Rijksregisternummer 85.07.30-033.28, IBAN BE68 5390 0754 7034.")
LEAKY_ANSWER = "De gemeente kan een gebruikslicentie bedingen in de pilootovereenkomst met de leverancier."
LEAKED = ("Jan Peeters", "Peeters", "Rabot", "Sensotec", "jan at gent", "jan(at)", "gent [dot]", "123 45 67",
          "123.45.67", "0470", "Kerkstraat", "Loi 16", "9000", "85.07.30", "BE68", "7034", "Gent", "Brussel")
CLEAN = {"title": "Softwarelicentie na een piloot",
         "question": "Mag een gemeente de software na de piloot blijven gebruiken?",
         "answer": "De gemeente kan een gebruikslicentie bedingen in de pilootovereenkomst."}


def _leaky(world) -> int:
    return _question(world, title="Licentie na de piloot", text=LEAKY_QUESTION, area=ExpertArea.IP_AND_CONTRACTS,
                     status=QuestionStatus.ANSWERED, expert_id=world.ids["facilitator"], answer=LEAKY_ANSWER,
                     answered_at=datetime.now(UTC))


def _form_fields(page: str) -> str:
    fields = "".join(re.findall(r"<textarea[^>]*>(.*?)</textarea>", page, re.S))
    return fields + "".join(re.findall(r'<input[^>]*name="title"[^>]*value="([^"]*)"', page))


def test_draft_replaces_every_leaked_kind_and_highlights_it(app, world):
    with app.app_context():
        question_id = _leaky(world)
    staff = _client(app, world.emails["facilitator"])
    page = staff.get(f"/questions/{question_id}/publish").get_data(as_text=True)
    fields = _form_fields(page)
    for term in LEAKED:
        assert term not in fields, term
    # The public text marks each placeholder with its kind; the original marks what is replaced.
    for kind in ("person", "place", "organisation", "email", "phone", "address", "postcode", "national_number",
                 "iban"):
        assert f'<mark class="anon anon-replaced" data-kind="{kind}"' in page, kind
        assert f'<mark class="anon anon-found" data-kind="{kind}"' in page, kind  # in the original
    assert 'name="confirm"' in page and "I have read the text and it contains no personal data." in page

    # Publishing the draft as it is, confirmed: the public page shows none of it, and says who checked.
    draft = {"title": re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1),
             "question": LEAKY_QUESTION, "answer": LEAKY_ANSWER, "confirm": "y"}
    with app.test_request_context():
        found = expert_service.identifiers(db.session.get(ExpertQuestion, question_id))
        draft["question"] = expert_service.anonymise(LEAKY_QUESTION, found, "nl")
    assert staff.post(f"/questions/{question_id}/publish", data=draft).status_code == 302
    anon = app.test_client()
    anon.post("/language", data={"locale": "en"})
    entry = anon.get(f"/knowledge/{question_id}").get_data(as_text=True)
    for term in LEAKED:
        assert term not in entry, term
    assert "checked by a facilitator on" in entry and "names were removed" not in entry.lower()
    listing = anon.get("/knowledge/").get_data(as_text=True)
    assert "Names of municipalities and people are removed" not in listing
    assert "a facilitator checks the text" in listing
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "question.publish",
                                                              AuditEvent.object_id == question_id))
        assert event.detail == {"confirmed": True}


def test_publish_is_refused_while_personal_data_remains_and_keeps_the_text(app, world):
    with app.app_context():
        question_id = _answered(world)
    staff = _client(app, world.emails["facilitator"])
    answer = "De gemeente betaalt de licentie op BE68 5390 0754 7034 aan de leverancier."
    page = staff.post(f"/questions/{question_id}/publish", data=dict(CLEAN, answer=answer, confirm="y"))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and answer in body
    assert "Remove \u201cBE68 5390 0754 7034\u201d" in body and 'aria-invalid="true"' in body
    assert '<mark class="anon anon-found" data-kind="iban"' in body
    assert "cannot be published until it is removed" in body
    with app.test_request_context():
        assert not db.session.get(ExpertQuestion, question_id).published
        staff_user = db.session.get(User, world.ids["facilitator"])
        with pytest.raises(expert_service.InvalidInput) as refused:
            expert_service.publish(staff_user, question_id, expert_service.PublicText(
                CLEAN["title"], "Mag Jan Peeters de software blijven gebruiken?", CLEAN["answer"]), confirmed=True)
        assert refused.value.field == "question" and "Jan Peeters" in refused.value.message


def test_publish_is_refused_without_the_confirmation(app, world):
    with app.app_context():
        question_id = _answered(world)
    staff = _client(app, world.emails["facilitator"])
    page = staff.post(f"/questions/{question_id}/publish", data=CLEAN)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and CLEAN["question"] in body
    assert "Confirm that you have read the text and that it contains no personal data." in body
    with app.test_request_context():
        assert not db.session.get(ExpertQuestion, question_id).published
        staff_user = db.session.get(User, world.ids["facilitator"])
        with pytest.raises(expert_service.InvalidInput) as refused:
            expert_service.publish(staff_user, question_id, expert_service.PublicText(**CLEAN), confirmed=False)
        assert refused.value.field == "confirm"
        assert not db.session.get(ExpertQuestion, question_id).published


def test_draft_page_escapes_the_text_and_warns_about_name_like_words(app, world):
    with app.app_context():
        question_id = _answered(world)
    staff = _client(app, world.emails["facilitator"])
    question = "Mag <script>alert(1)</script> de gemeente met Vandermeulen de software blijven gebruiken?"
    body = staff.post(f"/questions/{question_id}/publish", data=dict(CLEAN, question=question)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '<mark class="anon anon-warning" data-kind="possible-name" title="Looks like a name: check it">' \
           'Vandermeulen</mark>' in body


def test_legacy_entries_claim_only_the_automatic_removal(app, world):
    with app.app_context():
        question_id = _question(world, status=QuestionStatus.ANSWERED, answer="Het antwoord.", published=True,
                                public_title="Publieke titel", public_question="Publieke vraag.",
                                public_answer="Publiek antwoord.")
    anon = app.test_client()
    anon.post("/language", data={"locale": "en"})
    entry = anon.get(f"/knowledge/{question_id}").get_data(as_text=True)
    assert "checked by a facilitator" not in entry
    assert "Names known to the platform, e-mail addresses and phone numbers were removed automatically" in entry


# ---- demo ----------------------------------------------------------------------------------

def test_demo_experts_load_once(app, runner):
    from proeftuin.services import seeding

    # `seed demo` loads the demo experts itself; a second load adds nothing.
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        assert expert_service.load_demo_experts() == 0
        profiles = db.session.scalars(sa.select(ExpertProfile)).all()
        assert len(profiles) == 3 and all(p.user.is_demo and p.user.role == Role.FACILITATOR for p in profiles)
        facilitator = next(d.email for d in seeding.DEMO_LOGINS if d.role == "facilitator")
        mine = next(p for p in profiles if p.user.email == facilitator)
        assert set(mine.areas) == {"procurement_law", "procedures"} and set(mine.languages) == {"nl", "fr", "en"}
    client = app.test_client()
    assert login(client, "expert.ip@demo.proeftuin.be", seeding.DEMO_PASSWORD).status_code == 302
    assert "Demo expert IE en contracten" in client.get("/experts/").get_data(as_text=True)


def test_demo_experts_wait_for_the_demo(app):
    with app.app_context():
        assert expert_service.load_demo_experts() == 0


# ---- matching quality with the real model --------------------------------------------------

@pytest.fixture(scope="module")
def warm_model():
    from embeddings.encoders import get_encoder
    encoder = get_encoder("use-multilingual-v3")
    encoder.encode(["warm up"])
    return encoder


def test_real_model_routes_a_dutch_ip_question_to_the_ip_expert(make_app, warm_model):
    app = make_app(EMBEDDING_MODEL="use-multilingual-v3")
    with app.app_context():
        muni = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        asker = make_user("gent@example.org", Role.MUNICIPALITY, muni)
        make_user("steunpunt@example.org", Role.FACILITATOR, make_org(OrgKind.FACILITATOR, "Steunpunt"))
        db.session.commit()
        # Both speak Dutch and neither knows the question's area: the texts decide.
        privacy = _expert("privacy@example.org", "Pia Privacy", [ExpertArea.DATA_AND_PRIVACY], PRIVACY,
                          languages=("nl", "en"))
        ip = _expert("ip@example.org", "Ines IP", [ExpertArea.IP_AND_CONTRACTS], IP_CONTRACTS_FR,
                     languages=("nl", "fr"), language=Language.FR)
        energy = _expert("energy@example.org", "Eddy Energy", [ExpertArea.TECHNICAL], ENERGY,
                         languages=("nl", "en"))
        question = ExpertQuestion(
            organisation_id=muni.id, asked_by_id=asker.id, area=ExpertArea.PROCEDURES.value, language=Language.NL,
            title="Intellectuele eigendom in een pilootovereenkomst",
            question="Wij sluiten een pilootovereenkomst met een start-up. Wie wordt eigenaar van de intellectuele "
                     "eigendom op de software en de resultaten, en welke gebruiksrechten kan de gemeente bedingen?",
        )
        db.session.add(question)
        db.session.commit()
        proposals = expert_service.propose_experts(question)
        order = [p.profile.user_id for p in proposals]
        assert order[0] == ip, [p.profile.user.name for p in proposals]
        assert order.index(ip) < order.index(privacy) and set(order) == {ip, privacy, energy}
        assert proposals[0].passages and proposals[0].passages[0][2] > 0.2
