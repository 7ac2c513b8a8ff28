"""Database models: data, constraints and small derived properties, no workflows."""
from proeftuin.models.application import Application
from proeftuin.models.audit import AuditEvent
from proeftuin.models.challenge import Challenge, ChallengeTheme
from proeftuin.models.matching import Embedding, IndexState, MatchSuggestion
from proeftuin.models.organisation import Municipality, Organisation
from proeftuin.models.profile import ProfileTheme, StartupProfile
from proeftuin.models.user import User

__all__ = [
    "Application",
    "AuditEvent",
    "Challenge",
    "ChallengeTheme",
    "Embedding",
    "IndexState",
    "MatchSuggestion",
    "Municipality",
    "Organisation",
    "ProfileTheme",
    "StartupProfile",
    "User",
]
