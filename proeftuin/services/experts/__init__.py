"""The expert pool: expertise profiles, questions routed to experts, and the anonymised knowledge base.

- Experts are facilitator or admin users with an `ExpertProfile` (no role of their own).
- A municipality asks a question (optionally about one of its own challenges); the engine proposes
  the experts whose expertise fits (`propose_experts`); a facilitator assigns one with a due date;
  the question has a thread and an answer.
- An answered question can be published to the knowledge base, but only as an anonymised copy
  (`public_*` fields) that staff checked: the knowledge base never reads the original texts.

Where things live: `rules` (active statuses, due dates), `expertise` (profiles and the pool),
`access` (who may see a question), `queries` (question lists), `proposals` (the engine's experts
for a question), `workflow` (ask, assign, thread, answer, close), `publication` (anonymising and
publishing), `knowledge` (reading the knowledge base) and `demo` (the demo experts). Callers
import from this package, which re-exports the public names of every module.
"""
from __future__ import annotations

from proeftuin.services import InvalidInput
from proeftuin.services.experts.access import can_view, get_visible
from proeftuin.services.experts.demo import DEMO_EXPERTS, load_demo_experts
from proeftuin.services.experts.expertise import (
    PoolEntry,
    ProfileData,
    assignable_experts,
    own_profile,
    pool,
    save_profile,
)
from proeftuin.services.experts.knowledge import (
    KnowledgeEntry,
    KnowledgeFilters,
    checked_on,
    entry_of,
    get_published,
    knowledge_query,
)
from proeftuin.services.experts.proposals import (
    AREA_BONUS,
    LANGUAGE_BONUS,
    PROPOSALS,
    ExpertProposal,
    propose_experts,
    question_text,
)
from proeftuin.services.experts.publication import (
    CONFIRM_TEXT,
    PUBLISH_ACTIONS,
    PublicationReview,
    PublicText,
    anonymise,
    identifiers,
    leftover,
    publication_draft,
    publish,
    review_publication,
    unpublish,
)
from proeftuin.services.experts.queries import QUESTION_ORDER, QuestionFilters, list_query, own_challenges
from proeftuin.services.experts.rules import (
    ACTIVE_STATUSES,
    ANSWERABLE_STATUSES,
    ASSIGNABLE_STATUSES,
    DEFAULT_WORKING_DAYS,
    add_working_days,
    default_due_date,
    is_overdue,
)
from proeftuin.services.experts.workflow import (
    ANSWERED_SUBJECT,
    ANSWERED_TEXT,
    ASSIGNED_ASKER_TEXT,
    ASSIGNED_SUBJECT,
    ASSIGNED_TEXT,
    CLOSED_TEXT,
    MESSAGE_SUBJECT,
    MESSAGE_TEXT,
    NEW_QUESTION_SUBJECT,
    NEW_QUESTION_TEXT,
    QuestionData,
    answer,
    ask,
    assign,
    close,
    post_message,
)

__all__ = [
    # rules
    "ACTIVE_STATUSES", "ANSWERABLE_STATUSES", "ASSIGNABLE_STATUSES", "DEFAULT_WORKING_DAYS", "add_working_days",
    "default_due_date", "is_overdue",
    # expertise
    "PoolEntry", "ProfileData", "assignable_experts", "own_profile", "pool", "save_profile",
    # access
    "can_view", "get_visible",
    # queries
    "QUESTION_ORDER", "QuestionFilters", "list_query", "own_challenges",
    # proposals
    "AREA_BONUS", "ExpertProposal", "LANGUAGE_BONUS", "PROPOSALS", "propose_experts", "question_text",
    # workflow
    "ANSWERED_SUBJECT", "ANSWERED_TEXT", "ASSIGNED_ASKER_TEXT", "ASSIGNED_SUBJECT", "ASSIGNED_TEXT", "CLOSED_TEXT",
    "MESSAGE_SUBJECT", "MESSAGE_TEXT", "NEW_QUESTION_SUBJECT", "NEW_QUESTION_TEXT", "QuestionData", "answer", "ask",
    "assign", "close", "post_message",
    # publication
    "CONFIRM_TEXT", "PUBLISH_ACTIONS", "PublicText", "PublicationReview", "anonymise", "identifiers", "leftover",
    "publication_draft", "publish", "review_publication", "unpublish",
    # knowledge
    "KnowledgeEntry", "KnowledgeFilters", "checked_on", "entry_of", "get_published", "knowledge_query",
    # demo
    "DEMO_EXPERTS", "load_demo_experts",
    # read here by tests (`expert_service.InvalidInput`), as before the split
    "InvalidInput",
]
