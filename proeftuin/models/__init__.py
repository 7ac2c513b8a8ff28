"""Database models: data, constraints and small derived properties, no workflows."""
from proeftuin.models.application import Application
from proeftuin.models.audit import AuditEvent
from proeftuin.models.buyer_group import BuyerGroup, BuyerGroupMember
from proeftuin.models.challenge import Challenge, ChallengeTheme
from proeftuin.models.experiment import (
    Experiment,
    ExperimentEvent,
    Kpi,
    KpiMeasurement,
    MunicipalityParticipation,
    StartupParticipation,
)
from proeftuin.models.expert import ExpertProfile, ExpertQuestion, QuestionMessage
from proeftuin.models.learning import LearningRun
from proeftuin.models.matching import Embedding, IndexState, MatchSuggestion
from proeftuin.models.notification import Notification
from proeftuin.models.organisation import Invitation, JoinRequest, Municipality, Organisation
from proeftuin.models.outbox import OutboxEffect
from proeftuin.models.profile import ProfileTheme, StartupProfile
from proeftuin.models.user import User

__all__ = [
    "BuyerGroup",
    "BuyerGroupMember",
    "Experiment",
    "ExperimentEvent",
    "ExpertProfile",
    "ExpertQuestion",
    "Kpi",
    "KpiMeasurement",
    "Notification",
    "QuestionMessage",
    "Application",
    "AuditEvent",
    "Challenge",
    "ChallengeTheme",
    "Embedding",
    "IndexState",
    "LearningRun",
    "MatchSuggestion",
    "Municipality",
    "MunicipalityParticipation",
    "Organisation",
    "Invitation",
    "JoinRequest",
    "OutboxEffect",
    "ProfileTheme",
    "StartupParticipation",
    "StartupProfile",
    "User",
]
