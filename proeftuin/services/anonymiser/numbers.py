"""Numbers with a checksum (python-stdnum) and phone numbers (phonenumbers, region BE)."""
from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.be import bis as stdnum_bis
from stdnum.be import nn as stdnum_nn
from stdnum.be import vat as stdnum_vat

from proeftuin.services.anonymiser.base import Candidate, digits

NN_CANDIDATE = re.compile(r"(?<![\w.-])\d{2}[. ]?\d{2}[. ]?\d{2}[ .-]?\d{3}[ .-]?\d{2}(?![\w]|[.,-]\d)")
VAT_CANDIDATE = re.compile(
    r"(?<![\w.-])(?:BE[ .]?)?[01]?\d{3}[. ]?\d{3}[. ]?\d{3}(?![\w]|[.,-]\d)", re.IGNORECASE)
VAT_CONTEXT = re.compile(
    r"(?i:ondernemingsnummer|ondernemingsnr|kbo|btw|tva|vat|bce|num[ée]ro d'entreprise|n° d'entreprise|"
    r"company number|enterprise number|registration number)\W{0,3}(?:nr\.?|n°|number|nummer)?\W{0,3}$")
IBAN_CANDIDATE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])")


def national_numbers(text: str) -> Iterator[Candidate]:
    """Belgian national register (rijksregisternummer) and BIS numbers with a valid checksum."""
    for match in NN_CANDIDATE.finditer(text):
        number = digits(match.group(0))
        if stdnum_nn.is_valid(number) or stdnum_bis.is_valid(number):
            yield Candidate(match.start(), match.end(), "national_number", "stdnum.be.nn")


def company_numbers(text: str) -> Iterator[Candidate]:
    """Enterprise (KBO/BCE) and VAT numbers with a valid checksum.

    Written as 0403.170.701 or BE 0403 170 701 they count alone; ten bare digits count only after a
    word such as "ondernemingsnummer" or "TVA" (a phone number passes the checksum one time in 97).
    """
    for match in VAT_CANDIDATE.finditer(text):
        raw = match.group(0)
        number = digits(raw)
        if len(number) == 9:
            number = "0" + number
        if len(number) != 10 or not stdnum_vat.is_valid(number):
            continue
        formatted = raw[:2].upper() == "BE" or "." in raw
        context = VAT_CONTEXT.search(text[max(0, match.start() - 40):match.start()])
        if formatted or context:
            yield Candidate(match.start(), match.end(), "company_number", "stdnum.be.vat")


def ibans(text: str) -> Iterator[Candidate]:
    """IBANs with a valid mod-97 checksum (any country; the Belgian bank code is not looked up)."""
    for match in IBAN_CANDIDATE.finditer(text):
        raw = match.group(0)
        # The pattern may run into a following word in capitals: shorten it group by group.
        while len(raw) >= 15:
            if stdnum_iban.is_valid(raw, check_country=False):
                yield Candidate(match.start(), match.start() + len(raw), "iban", "stdnum.iban")
                break
            cut = raw.rfind(" ")
            raw = raw[:cut] if cut > 0 else raw[:-1]


def phones(text: str) -> Iterator[Candidate]:
    """Phone numbers as libphonenumber finds them for region BE (national and international forms)."""
    matcher = phonenumbers.PhoneNumberMatcher(text, "BE", leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        raw = match.raw_string
        count = len(digits(raw))
        # Bare digit runs (no +, 00 or leading 0) are amounts, years or references, not phone numbers.
        if not (raw.startswith(("+", "00", "0", "(0", "(+"))) or count < 9:
            continue
        yield Candidate(match.start, match.end, "phone", "phonenumbers")


