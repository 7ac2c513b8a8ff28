"""Closed vocabularies of the domain. Labels are translated where they are shown."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a translatable label."""

    @property
    def label(self) -> str:
        return str(LABELS[type(self)][self])

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def values(cls) -> set[str]:
        return {m.value for m in cls}

    @classmethod
    def label_of(cls, value: object) -> str:
        """The label of a stored value, or the value itself when the app does not know it.

        For values kept outside an enum column (JSON lists, suggestion reasons, imported data), so
        an unknown one such as a language "de" shows as "de" instead of breaking the page.
        """
        try:
            return cls(value).label
        except (ValueError, KeyError):
            return "" if value is None else str(value)


class Role(LabelledEnum):
    MUNICIPALITY = "municipality"
    STARTUP = "startup"
    FACILITATOR = "facilitator"
    ADMIN = "admin"


class OrgKind(LabelledEnum):
    MUNICIPALITY = "municipality"
    STARTUP = "startup"
    FACILITATOR = "facilitator"


class Region(LabelledEnum):
    ANTWERPEN = "antwerpen"
    LIMBURG = "limburg"
    OOST_VLAANDEREN = "oost_vlaanderen"
    VLAAMS_BRABANT = "vlaams_brabant"
    WEST_VLAANDEREN = "west_vlaanderen"
    BRUSSELS = "brussels"
    WALLONIA = "wallonia"
    ABROAD = "abroad"


PROVINCE_TO_REGION = {
    "Antwerpen": Region.ANTWERPEN,
    "Limburg": Region.LIMBURG,
    "Oost-Vlaanderen": Region.OOST_VLAANDEREN,
    "Vlaams-Brabant": Region.VLAAMS_BRABANT,
    "West-Vlaanderen": Region.WEST_VLAANDEREN,
    "Brussel": Region.BRUSSELS,
}


class Theme(LabelledEnum):
    MOBILITY = "mobility"
    CLIMATE_ENERGY = "climate_energy"
    ENVIRONMENT_WATER = "environment_water"
    CIRCULAR_ECONOMY = "circular_economy"
    CARE_WELFARE = "care_welfare"
    HEALTH = "health"
    DIGITAL_SERVICES = "digital_services"
    SAFETY = "safety"
    HOUSING_PLANNING = "housing_planning"
    ECONOMY_EMPLOYMENT = "economy_employment"
    EDUCATION = "education"
    CULTURE_LEISURE = "culture_leisure"


class Language(LabelledEnum):
    NL = "nl"
    FR = "fr"
    EN = "en"


class ProcurementRoute(LabelledEnum):
    MARKET_CONSULTATION = "market_consultation"
    PRE_COMMERCIAL = "pre_commercial"
    INNOVATION_PARTNERSHIP = "innovation_partnership"
    COMPETITIVE_DIALOGUE = "competitive_dialogue"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    DESIGN_CONTEST = "design_contest"
    NEGOTIATED_LOW_VALUE = "negotiated_low_value"
    UNDECIDED = "undecided"


class ChallengeStatus(LabelledEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    IN_EXPERIMENT = "in_experiment"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class Maturity(LabelledEnum):
    CONCEPT = "concept"
    PROTOTYPE = "prototype"
    PILOT_READY = "pilot_ready"
    MARKET_READY = "market_ready"
    SCALING = "scaling"


class ApplicationStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    REJECTED = "rejected"
    SELECTED = "selected"
    WITHDRAWN = "withdrawn"


class SuggestionStatus(LabelledEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    NEEDS_INFO = "needs_info"


class RejectReason(LabelledEnum):
    OFF_TOPIC = "off_topic"
    NOT_MATURE = "not_mature"
    WRONG_REGION = "wrong_region"
    ALREADY_KNOWN = "already_known"
    TOO_LARGE_OR_SMALL = "too_large_or_small"
    OTHER = "other"


class ExperimentStatus(LabelledEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    RUNNING = "running"
    EVALUATED = "evaluated"
    PROCUREMENT = "procurement"
    STOPPED = "stopped"


class Decision(LabelledEnum):
    GO = "go"
    NO_GO = "no_go"


class BuyerGroupStatus(LabelledEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    CLOSED = "closed"


class InvitationStatus(LabelledEnum):
    INVITED = "invited"
    JOINED = "joined"
    DECLINED = "declined"


class ParticipationState(LabelledEnum):
    """An organisation's consent to take part in an experiment: invited, then accepted or declined."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ExpertArea(LabelledEnum):
    PROCUREMENT_LAW = "procurement_law"
    PROCEDURES = "procedures"
    IP_AND_CONTRACTS = "ip_and_contracts"
    STATE_AID_AND_FUNDING = "state_aid_and_funding"
    DATA_AND_PRIVACY = "data_and_privacy"
    TECHNICAL = "technical"


class QuestionStatus(LabelledEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


class OrgRole(LabelledEnum):
    """A person's role in their organisation (issue 10). Viewers are read-only colleagues (a council
    member or a colleague of another department who follows the file): they see what the
    organisation sees and change nothing."""

    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class JoinRequestStatus(LabelledEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class LearningStatus(LabelledEnum):
    """What became of one run of `flask matching learn`."""

    ACTIVE = "active"
    RETIRED = "retired"
    REFUSED = "refused"


class LearningRefusal(LabelledEnum):
    """Why a run of `flask matching learn` did not switch the ranking."""

    NOTHING_TO_LEARN = "nothing_to_learn"
    TOO_FEW_DECISIONS = "too_few_decisions"
    TOO_FEW_HELD_BACK = "too_few_held_back"
    NOT_BETTER = "not_better"


LABELS: dict[type, dict] = {
    Role: {
        Role.MUNICIPALITY: _l("Municipality"),
        Role.STARTUP: _l("Start-up"),
        Role.FACILITATOR: _l("Facilitator"),
        Role.ADMIN: _l("Platform admin"),
    },
    OrgKind: {
        OrgKind.MUNICIPALITY: _l("Municipality"),
        OrgKind.STARTUP: _l("Start-up"),
        OrgKind.FACILITATOR: _l("Support point"),
    },
    Region: {
        Region.ANTWERPEN: _l("Antwerp"),
        Region.LIMBURG: _l("Limburg"),
        Region.OOST_VLAANDEREN: _l("East Flanders"),
        Region.VLAAMS_BRABANT: _l("Flemish Brabant"),
        Region.WEST_VLAANDEREN: _l("West Flanders"),
        Region.BRUSSELS: _l("Brussels"),
        Region.WALLONIA: _l("Wallonia"),
        Region.ABROAD: _l("Abroad"),
    },
    Theme: {
        Theme.MOBILITY: _l("Mobility"),
        Theme.CLIMATE_ENERGY: _l("Climate and energy"),
        Theme.ENVIRONMENT_WATER: _l("Environment and water"),
        Theme.CIRCULAR_ECONOMY: _l("Circular economy"),
        Theme.CARE_WELFARE: _l("Care and welfare"),
        Theme.HEALTH: _l("Health"),
        Theme.DIGITAL_SERVICES: _l("Digital public services"),
        Theme.SAFETY: _l("Safety"),
        Theme.HOUSING_PLANNING: _l("Housing and spatial planning"),
        Theme.ECONOMY_EMPLOYMENT: _l("Economy and employment"),
        Theme.EDUCATION: _l("Education"),
        Theme.CULTURE_LEISURE: _l("Culture and leisure"),
    },
    Language: {
        Language.NL: _l("Dutch"),
        Language.FR: _l("French"),
        Language.EN: _l("English"),
    },
    ProcurementRoute: {
        ProcurementRoute.MARKET_CONSULTATION: _l("Market consultation"),
        ProcurementRoute.PRE_COMMERCIAL: _l("Pre-commercial procurement"),
        ProcurementRoute.INNOVATION_PARTNERSHIP: _l("Innovation partnership"),
        ProcurementRoute.COMPETITIVE_DIALOGUE: _l("Competitive dialogue"),
        ProcurementRoute.COMPETITIVE_NEGOTIATION: _l("Competitive procedure with negotiation"),
        ProcurementRoute.DESIGN_CONTEST: _l("Design contest"),
        ProcurementRoute.NEGOTIATED_LOW_VALUE: _l("Low value or negotiated without publication"),
        ProcurementRoute.UNDECIDED: _l("Undecided"),
    },
    ChallengeStatus: {
        ChallengeStatus.DRAFT: _l("Draft"),
        ChallengeStatus.PUBLISHED: _l("Open"),
        ChallengeStatus.CLOSED: _l("Closed"),
        ChallengeStatus.IN_EXPERIMENT: _l("In experiment"),
        ChallengeStatus.COMPLETED: _l("Completed"),
        ChallengeStatus.ARCHIVED: _l("Archived"),
    },
    Maturity: {
        Maturity.CONCEPT: _l("Concept"),
        Maturity.PROTOTYPE: _l("Prototype"),
        Maturity.PILOT_READY: _l("Ready for a pilot"),
        Maturity.MARKET_READY: _l("On the market"),
        Maturity.SCALING: _l("Scaling up"),
    },
    ApplicationStatus: {
        ApplicationStatus.DRAFT: _l("Draft"),
        ApplicationStatus.SUBMITTED: _l("Submitted"),
        ApplicationStatus.SHORTLISTED: _l("Shortlisted"),
        ApplicationStatus.REJECTED: _l("Not retained"),
        ApplicationStatus.SELECTED: _l("Selected"),
        ApplicationStatus.WITHDRAWN: _l("Withdrawn"),
    },
    RejectReason: {
        RejectReason.OFF_TOPIC: _l("Does not answer the challenge"),
        RejectReason.NOT_MATURE: _l("Solution not mature enough"),
        RejectReason.WRONG_REGION: _l("Does not work in the region"),
        RejectReason.ALREADY_KNOWN: _l("Already in contact or already rejected"),
        RejectReason.TOO_LARGE_OR_SMALL: _l("Does not fit the scale or budget"),
        RejectReason.OTHER: _l("Other reason"),
    },
    ExperimentStatus: {
        ExperimentStatus.PROPOSED: _l("Proposed"),
        ExperimentStatus.PLANNED: _l("Planned"),
        ExperimentStatus.RUNNING: _l("Running"),
        ExperimentStatus.EVALUATED: _l("Evaluated"),
        ExperimentStatus.PROCUREMENT: _l("Follow-up procurement"),
        ExperimentStatus.STOPPED: _l("Stopped"),
    },
    Decision: {Decision.GO: _l("Go"), Decision.NO_GO: _l("No go")},
    BuyerGroupStatus: {
        BuyerGroupStatus.PROPOSED: _l("Proposed"),
        BuyerGroupStatus.CONFIRMED: _l("Confirmed"),
        BuyerGroupStatus.CLOSED: _l("Closed"),
    },
    InvitationStatus: {
        InvitationStatus.INVITED: _l("Invited"),
        InvitationStatus.JOINED: _l("Joined"),
        InvitationStatus.DECLINED: _l("Declined"),
    },
    ParticipationState: {
        ParticipationState.INVITED: _l("Invited"),
        ParticipationState.ACCEPTED: _l("Accepted"),
        ParticipationState.DECLINED: _l("Declined"),
    },
    ExpertArea: {
        ExpertArea.PROCUREMENT_LAW: _l("Public procurement law"),
        ExpertArea.PROCEDURES: _l("Procurement procedures"),
        ExpertArea.IP_AND_CONTRACTS: _l("Intellectual property and contracts"),
        ExpertArea.STATE_AID_AND_FUNDING: _l("State aid and co-funding"),
        ExpertArea.DATA_AND_PRIVACY: _l("Data and privacy"),
        ExpertArea.TECHNICAL: _l("Technical domain"),
    },
    QuestionStatus: {
        QuestionStatus.OPEN: _l("Open"),
        QuestionStatus.ASSIGNED: _l("Assigned to an expert"),
        QuestionStatus.ANSWERED: _l("Answered"),
        QuestionStatus.CLOSED: _l("Closed"),
    },
    SuggestionStatus: {
        SuggestionStatus.PROPOSED: _l("Proposed"),
        SuggestionStatus.ACCEPTED: _l("Accepted"),
        SuggestionStatus.REJECTED: _l("Rejected"),
        SuggestionStatus.NEEDS_INFO: _l("Needs information"),
    },
    OrgRole: {
        OrgRole.ADMIN: _l("Organisation admin"),
        OrgRole.MEMBER: _l("Member"),
        OrgRole.VIEWER: _l("Read-only colleague"),
    },
    JoinRequestStatus: {
        JoinRequestStatus.PENDING: _l("Waiting for an admin"),
        JoinRequestStatus.APPROVED: _l("Approved"),
        JoinRequestStatus.REFUSED: _l("Refused"),
        JoinRequestStatus.WITHDRAWN: _l("Withdrawn"),
    },
    LearningStatus: {
        LearningStatus.ACTIVE: _l("In use"),
        LearningStatus.RETIRED: _l("Retired"),
        LearningStatus.REFUSED: _l("Not used"),
    },
    LearningRefusal: {
        LearningRefusal.NOTHING_TO_LEARN: _l("No challenge has both an accepted and an off-topic suggestion"),
        LearningRefusal.TOO_FEW_DECISIONS: _l("Too few decisions to learn from"),
        LearningRefusal.TOO_FEW_HELD_BACK: _l("Too few held-back challenges to compare on"),
        LearningRefusal.NOT_BETTER: _l("Not better than the current ranking on the held-back decisions"),
    },
}
