"""The anonymiser: every kind of personal data is found and replaced, ordinary text is left alone."""
from __future__ import annotations

import pytest

from proeftuin.services import anonymiser
from proeftuin.services.anonymiser import Context, detect
from proeftuin.services.anonymiser.lexicon import table_places

PLACES = Context(places=sorted(table_places()))

# The cases that leaked from an ordinary question (issue 7), each with the kind it must get.
LEAKED = [
    ("Ik ben Jan Peeters van de dienst mobiliteit.", "Jan Peeters", "person"),
    ("Het project loopt in de wijk Rabot.", "Rabot", "place"),
    ("We werken samen met de start-up Sensotec.", "Sensotec", "organisation"),
    ("Mail naar jan at gent dot be voor info.", "jan at gent dot be", "email"),
    ("Mail naar jan(at)gent.be voor info.", "jan(at)gent.be", "email"),
    ("Mail naar jan [at] gent [dot] be voor info.", "jan [at] gent [dot] be", "email"),
    ("Bel +32 9 123 45 67 na de middag.", "+32 9 123 45 67", "phone"),
    ("Bel 0032 9/123.45.67 na de middag.", "0032 9/123.45.67", "phone"),
    ("Bel 0470 12 34 56 na de middag.", "0470 12 34 56", "phone"),
    ("Het adres is Kerkstraat 12 bus 3 in Gent.", "Kerkstraat 12 bus 3", "address"),
    ("L'adresse est rue de la Loi 16 boîte 2 à Bruxelles.", "rue de la Loi 16 boîte 2", "address"),
    ("Het kantoor ligt in 9000 Gent.", "9000", "postcode"),
    ("Het kantoor ligt in 9000 Gent.", "Gent", "place"),
    ("Zijn rijksregisternummer is 85.07.30-033.28.", "85.07.30-033.28", "national_number"),
    ("Stort op BE68 5390 0754 7034 voor het einde van de maand.", "BE68 5390 0754 7034", "iban"),
    ("Ondernemingsnummer 0403.170.701.", "0403.170.701", "company_number"),
    ("Volgens mevrouw Van den Bossche kan dat.", "Van den Bossche", "person"),
    ("Selon Mme Dubois, la commune peut le faire.", "Dubois", "person"),
    ("The offer of Sensotec BV was the lowest.", "Sensotec BV", "organisation"),
]

# Ordinary text that must be left as it is.
NEGATIVES = [
    "De gemeente telt 9000 inwoners.",
    "Volgens artikel 12 van de wet van 17 juni 2016 mag dat.",
    "Het plan loopt tot 2026.",
    "Fase 2 start op 01/01/2025 met een raming van 1 250 000 euro.",
    "Het KB van 18 april 2017 legt de drempel op 143.000 euro.",
    "Het Brussels Hoofdstedelijk Gewest en Vlaanderen financieren dit samen.",
    "As a rule, the GDPR applies to camera images.",
    "May we extend the pilot by 6 months?",
    "Ben ik verplicht om drie offertes te vragen?",
    "De boom op het plein blijft staan.",
    "Selon l'article 42, la commune peut attribuer le marché.",
    "The pilot ran from 2023 to 2025 with 2000 participants.",
]


@pytest.mark.parametrize(("text", "span", "kind"), LEAKED)
def test_each_leaked_case_is_detected_with_its_kind(text, span, kind):
    found = [(d.text, d.kind) for d in detect(text, PLACES)]
    assert (span, kind) in found, found


@pytest.mark.parametrize(("text", "span", "kind"), LEAKED)
def test_each_leaked_case_is_replaced_by_the_placeholder_of_its_kind(app, text, span, kind):
    with app.test_request_context():
        out = anonymiser.anonymise(text, PLACES, "nl")
        label = anonymiser.placeholder(kind, "nl")
    assert span not in out and label in out
    assert detect(out, PLACES) == []  # nothing left, and the placeholders are not taken for data


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_text_is_left_alone(app, text):
    assert detect(text, PLACES) == []
    with app.test_request_context():
        assert anonymiser.anonymise(text, PLACES, "nl") == text


def test_placeholders_follow_the_language(app):
    text = "Contact: Jan Peeters, jan.peeters@example.org."
    with app.test_request_context():
        dutch = anonymiser.anonymise(text, None, "nl")
        french = anonymiser.anonymise(text, None, "fr")
        english = anonymiser.anonymise(text, None, "en")
    assert "[naam]" in dutch and "[e-mailadres]" in dutch
    assert "[nom]" in french and "[adresse e-mail]" in french
    assert "[name]" in english and "[e-mail address]" in english


def test_names_the_platform_knows_are_found_without_a_title_or_first_name():
    context = Context(people=["Kathleen Verhaegen"], emails=["k.verhaegen@zottegem.be"],
                      organisations=["ParkWise NV"], challenges=["Slimme parkeersensoren"])
    text = ("Verhaegen vroeg of k.verhaegen het bij ParkWise kon nagaan, over slimme parkeersensoren.")
    found = {(d.text, d.kind) for d in detect(text, context)}
    assert found == {("Verhaegen", "person"), ("k.verhaegen", "person"), ("ParkWise", "organisation"),
                     ("slimme parkeersensoren", "challenge")}


def test_numbers_need_a_valid_checksum():
    assert [d.kind for d in detect("Rijksregister 85.07.30-033.28", PLACES)] == ["national_number"]
    assert detect("Rijksregister 85.07.30-033.29", PLACES) == []
    assert [d.kind for d in detect("IBAN BE68 5390 0754 7034", PLACES)] == ["iban"]
    assert detect("IBAN BE69 5390 0754 7034", PLACES) == []


def test_ambiguous_place_names_need_context():
    assert detect("Boom staat in het midden van het plein.", PLACES) == []
    assert [d.text for d in detect("De gemeente Boom doet mee.", PLACES)] == ["Boom"]


def test_warnings_are_capitalised_words_not_at_a_sentence_start():
    text = "Wij vroegen het aan Vandermeulen. Dat ging vlot met CityFlow en de EU."
    found = detect(text, PLACES)
    words = [text[s:e] for s, e in anonymiser.warnings(text, found)]
    assert words == ["Vandermeulen", "CityFlow"]  # not "Wij", "Dat" (sentence starts) nor "EU"


def test_segments_mark_placeholders_leftovers_and_warnings(app):
    with app.test_request_context():
        text = "Vraag van [naam] uit Gent over Vandermeulen."
        parts = anonymiser.segments(text, PLACES)
    marked = {(s.text, s.level, s.kind) for s in parts if s.level}
    assert marked == {("[naam]", "replaced", "person"), ("Gent", "found", "place"),
                      ("Vandermeulen", "warning", None)}
    assert "".join(s.text for s in parts) == text


def test_a_mailbox_named_after_an_ordinary_word_does_not_hide_that_word():
    """The demo municipality writes from gemeente@...: "de gemeente" stays publishable."""
    from proeftuin.services.anonymiser import Context, detect

    context = Context(people=["Demo Gemeente Gent"], emails=["gemeente@demo.proeftuin.be"])
    text = "Kan de gemeente eigenaar worden van de data? Vraag het aan gemeente@demo.proeftuin.be."
    found = {(d.kind, text[d.start:d.end]) for d in detect(text, context)}
    assert ("email", "gemeente@demo.proeftuin.be") in found
    assert not any(kind == "person" and span.lower() == "gemeente" for kind, span in found)
