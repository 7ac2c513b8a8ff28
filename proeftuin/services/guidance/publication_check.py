"""The pre-publication check: the common flaws of a challenge text (a prescribed solution, no
evaluation criteria, a missing or too short deadline, nothing measurable, a short problem, long
sentences, no budget), as findings in the reader's language. Warnings, not a block.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from proeftuin.models import Challenge

MIN_DEADLINE_DAYS = 28
MIN_PROBLEM_CHARS = 400
MAX_AVERAGE_SENTENCE_WORDS = 25
MIN_CRITERIA_CHARS = 20

ERROR, WARNING, ADVICE = "error", "warning", "advice"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, ADVICE: 2}
SEVERITY_LABELS = {
    ERROR: _l("Must be fixed before publishing"),
    WARNING: _l("Warning"),
    ADVICE: _l("Advice"),
}

_THINGS_NL = (r"app|apps|applicatie|webapp|platform|software|softwarepakket|dashboard|tool|website|portaal|"
              r"chatbot|databank|database|sensoren|sensor|camera's|camera|systeem")
_THINGS_FR = (r"application|appli|app|plateforme|logiciel|tableau de bord|outil|site web|site internet|portail|"
              r"chatbot|base de données|capteurs|capteur|caméras|caméra|système")
_THINGS_EN = r"app|apps|application|software|platform|dashboard|tool|website|portal|chatbot|database|sensors?|cameras?"
_FILLER = r"(?:[\w'’-]+\s+){0,3}?"  # up to three words between the article and the thing ("een slimme mobiele app")

SOLUTION_PATTERNS = tuple(re.compile(p, re.IGNORECASE) for p in (
    # Dutch: "we zoeken een app", "wij willen een platform", "we hebben een dashboard nodig"
    rf"\b(?:we|wij)\s+(?:zoeken|willen|wensen|bestellen)\s+(?:naar\s+)?een\s+{_FILLER}(?:{_THINGS_NL})\b",
    rf"\b(?:we|wij)\s+hebben\s+(?:nood\s+aan\s+)?een\s+{_FILLER}(?:{_THINGS_NL})\b",
    rf"\b(?:ontwikkel|bouw)\w*\s+(?:van\s+)?een\s+{_FILLER}(?:{_THINGS_NL})\b",
    # French: "nous cherchons une application", "nous voulons une plateforme", "nous avons besoin d'un logiciel"
    rf"\b(?:nous|on)\s+(?:cherch\w*|recherch\w*|voul\w*|souhait\w*|veu\w*)\s+une?\s+{_FILLER}(?:{_THINGS_FR})\b",
    rf"\b(?:nous\s+avons|on\s+a)\s+besoin\s+d['’]\s*une?\s+{_FILLER}(?:{_THINGS_FR})\b",
    rf"\b(?:développ|cré|construi)\w*\s+(?:d['’]\s*)?une?\s+{_FILLER}(?:{_THINGS_FR})\b",
    # English: "we need an app", "we are looking for a platform", "we want a dashboard"
    rf"\bwe\s+(?:need|want|require|seek|would\s+like)\s+(?:to\s+(?:buy|build|develop|have)\s+)?an?\s+{_FILLER}(?:{_THINGS_EN})\b",
    rf"\bwe\s+are\s+(?:looking|searching)\s+for\s+an?\s+{_FILLER}(?:{_THINGS_EN})\b",
    rf"\b(?:develop|build|create)\s+an?\s+{_FILLER}(?:{_THINGS_EN})\b",
))
MEASURABLE = re.compile(r"\d|%|\b(?:procent|percent|pour\s*cent|pourcent|helft|half|moitié|halver\w*|verdubbel\w*|"
                        r"doubl\w*|divis\w*\s+par)\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"\w+(?:['’-]\w+)*")


@dataclass(frozen=True)
class Finding:
    """One flaw of a challenge text."""

    code: str
    severity: str
    message: str
    field: str | None = None

    @property
    def severity_label(self) -> str:
        return str(SEVERITY_LABELS[self.severity])


def prescribed_solution(text: str) -> str | None:
    """The first phrase that names a solution instead of a problem, if any."""
    for pattern in SOLUTION_PATTERNS:
        match = pattern.search(text)
        if match:
            return " ".join(match.group(0).split())
    return None


def average_sentence_words(text: str) -> float:
    counts = [len(WORD.findall(s)) for s in SENTENCE_END.split(text or "")]
    counts = [c for c in counts if c]
    return sum(counts) / len(counts) if counts else 0.0


def check_challenge(challenge: Challenge, today: date) -> list[Finding]:
    """The common flaws of a challenge before publication (warnings; publishing stays allowed).

    Args:
        challenge: the challenge as it is now (it is only read).
        today: the date the deadline is counted from.

    Returns:
        Findings, the most serious first, each with a code, a severity and a message in the
        reader's language.
    """
    findings: list[Finding] = []
    phrase = None
    for name in ("title", "summary", "problem"):
        phrase = prescribed_solution(getattr(challenge, name) or "")
        if phrase:
            findings.append(Finding("prescribes_solution", WARNING, _(
                "The text describes a solution (\u201c%(phrase)s\u201d). Describe the problem and let start-ups "
                "propose how to solve it.", phrase=phrase), name))
            break
    if len((challenge.evaluation_criteria or "").strip()) < MIN_CRITERIA_CHARS:
        findings.append(Finding("no_evaluation_criteria", WARNING, _(
            "No evaluation criteria. Say how you will compare proposals, and keep the criteria fixed once "
            "published."), "evaluation_criteria"))
    if challenge.deadline is None:
        findings.append(Finding("no_deadline", WARNING, _(
            "No deadline for proposals. Start-ups plan their time: give a date at least %(days)d days away.",
            days=MIN_DEADLINE_DAYS), "deadline"))
    else:
        days = (challenge.deadline - today).days
        if days < 0:
            findings.append(Finding("deadline_passed", ERROR, _(
                "The deadline has passed. Set a new date, at least %(days)d days away.", days=MIN_DEADLINE_DAYS),
                "deadline"))
        elif days < MIN_DEADLINE_DAYS:
            findings.append(Finding("deadline_too_short", WARNING, ngettext(
                "The deadline is only %(num)d day away. Give start-ups at least %(days)d days to answer.",
                "The deadline is only %(num)d days away. Give start-ups at least %(days)d days to answer.",
                days, days=MIN_DEADLINE_DAYS), "deadline"))
    if not MEASURABLE.search(challenge.desired_outcome or ""):
        findings.append(Finding("outcome_not_measurable", ADVICE, _(
            "The desired outcome has nothing measurable. Add a number or a percentage, for example fewer "
            "complaints or a shorter waiting time."), "desired_outcome"))
    problem = (challenge.problem or "").strip()
    if len(problem) < MIN_PROBLEM_CHARS:
        findings.append(Finding("problem_too_short", ADVICE, _(
            "The problem description is short (%(count)d characters). Say who has the problem, how often, and "
            "what was tried before: aim for at least %(min)d characters.", count=len(problem),
            min=MIN_PROBLEM_CHARS), "problem"))
    average = average_sentence_words(f"{problem}\n{challenge.desired_outcome or ''}")
    if average > MAX_AVERAGE_SENTENCE_WORDS:
        findings.append(Finding("long_sentences", ADVICE, _(
            "The sentences are long (%(average)d words on average). Plain language helps start-ups and "
            "translation: aim for %(max)d words or fewer.", average=round(average),
            max=MAX_AVERAGE_SENTENCE_WORDS), "problem"))
    if challenge.budget_min is None and challenge.budget_max is None:
        findings.append(Finding("no_budget", ADVICE, _(
            "No budget range. Even a rough range helps start-ups decide whether to answer."), "budget_max"))
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])
