"""The one place that decides which text represents a challenge and a profile for matching."""
from __future__ import annotations

from proeftuin.models import Challenge, ExpertProfile, StartupProfile

CHALLENGE = "challenge"
PROFILE = "profile"
EXPERT = "expert"


def challenge_text(challenge: Challenge) -> str:
    """Title first (it names the need), then summary, problem and desired outcome.

    Constraints and evaluation criteria are left out: they describe the procedure, not the need.
    """
    parts = [challenge.title, challenge.summary, challenge.problem, challenge.desired_outcome]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def profile_text(profile: StartupProfile) -> str:
    """Organisation name and tagline, then capabilities and references (earlier pilots)."""
    parts = [
        f"{profile.organisation.name}: {profile.tagline}",
        profile.capabilities,
        profile.references or "",
    ]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def expert_text(expert: ExpertProfile) -> str:
    """The expert's own description of what they know (areas are matched as structured data)."""
    return expert.expertise.strip()


def text_of(obj: Challenge | StartupProfile | ExpertProfile) -> str:
    if isinstance(obj, Challenge):
        return challenge_text(obj)
    if isinstance(obj, ExpertProfile):
        return expert_text(obj)
    return profile_text(obj)


def kind_of(obj: Challenge | StartupProfile | ExpertProfile) -> str:
    if isinstance(obj, Challenge):
        return CHALLENGE
    if isinstance(obj, ExpertProfile):
        return EXPERT
    return PROFILE
