"""Experiments (pilots): the plan and its terms, KPIs over time, the status machine, the decision
and the follow-up procurement, with a timeline every party can read.

Who may do what on one experiment:

- staff (facilitators, admins) and members of the participating municipalities *manage* it: plan,
  terms, KPIs, status, decision, follow-up procurement;
- members of the participating start-ups *read* everything and *contribute* KPI measurements and
  timeline notes;
- an organisation that is invited but has not accepted yet sees only the invitation (what it is
  invited to and by whom) and may accept or decline it; it is not a party, so it reads nothing
  else and hears nothing of the experiment's activity;
- everyone else gets NotFound, so the experiment's existence does not leak.

Where things live: `rules` (the status flow and the limits every part shares), `access` (who may
read or manage), `queries` (lists and form choices), `plans` (opening an experiment, its plan and
terms), `participants` (the participation rows), `invitations` (inviting, accepting, declining),
`kpis` (KPIs and measurements), `lifecycle` (status machine, decision, follow-up procurement),
`events` (the timeline), `notices` (who is told what) and `charts` (the KPI chart). Callers import
from this package, which re-exports the public names of every module.
"""
from __future__ import annotations

from proeftuin.services.experiments.access import can_manage, can_read, get_kpi, get_manageable, get_readable, role_on
from proeftuin.services.experiments.charts import Chart, ChartPoint, kpi_chart, progress
from proeftuin.services.experiments.events import (
    EVENT_LABELS,
    STATUS_EVENT_LABEL,
    TimelineEntry,
    add_note,
    event_label,
    stop_reason,
    timeline,
)
from proeftuin.services.experiments.invitations import (
    InvitationSummary,
    accept_invitation,
    decline_invitation,
    invitation_for,
    invite,
    invite_choices,
    pending_invitations,
)
from proeftuin.services.experiments.kpis import (
    KpiData,
    add_kpi,
    add_measurement,
    delete_kpi,
    delete_measurement,
    recorders,
    update_kpi,
)
from proeftuin.services.experiments.lifecycle import (
    Blocker,
    ProcurementData,
    StatusChange,
    advice,
    awarded_label,
    blockers,
    change_status,
    record_decision,
    update_procurement,
)
from proeftuin.services.experiments.notices import (
    ACCEPTED_SUBJECT,
    ACCEPTED_TEXT,
    AWARD_SUBJECT,
    AWARD_TEXT,
    CREATED_SUBJECT,
    CREATED_TEXT,
    DECISION_SUBJECT,
    DECISION_TEXT,
    DECLINED_SUBJECT,
    DECLINED_TEXT,
    INVITED_SUBJECT,
    INVITED_TEXT,
    STATUS_SUBJECT,
    STATUS_TEXT,
)
from proeftuin.services.experiments.participants import open_invitations, participation_labels
from proeftuin.services.experiments.plans import (
    PLAN_FIELD_LABELS,
    ExperimentData,
    PlanData,
    Prefill,
    create,
    prefill,
    update_plan,
)
from proeftuin.services.experiments.queries import (
    ListFilters,
    challenge_choices,
    list_query,
    municipality_choices,
    startup_choices,
    status_counts,
)
from proeftuin.services.experiments.rules import (
    ACTIVE,
    CHALLENGE_STATUSES,
    DECIDABLE,
    FINAL,
    FLOW,
    LIST_STATUSES,
    MAX_PROCUREMENT_VALUE,
    MAX_VALUE,
    MEASURABLE,
    NEXT,
    PROCUREMENT_EDITABLE,
)

__all__ = [
    # rules
    "ACTIVE", "CHALLENGE_STATUSES", "DECIDABLE", "FINAL", "FLOW", "LIST_STATUSES", "MAX_PROCUREMENT_VALUE",
    "MAX_VALUE", "MEASURABLE", "NEXT", "PROCUREMENT_EDITABLE",
    # access
    "can_manage", "can_read", "get_kpi", "get_manageable", "get_readable", "role_on",
    # queries
    "ListFilters", "challenge_choices", "list_query", "municipality_choices", "startup_choices", "status_counts",
    # plans
    "ExperimentData", "PLAN_FIELD_LABELS", "PlanData", "Prefill", "create", "prefill", "update_plan",
    # participants
    "open_invitations", "participation_labels",
    # invitations
    "InvitationSummary", "accept_invitation", "decline_invitation", "invitation_for", "invite", "invite_choices",
    "pending_invitations",
    # kpis
    "KpiData", "add_kpi", "add_measurement", "delete_kpi", "delete_measurement", "recorders", "update_kpi",
    # lifecycle
    "Blocker", "ProcurementData", "StatusChange", "advice", "awarded_label", "blockers", "change_status",
    "record_decision", "update_procurement",
    # events
    "EVENT_LABELS", "STATUS_EVENT_LABEL", "TimelineEntry", "add_note", "event_label", "stop_reason", "timeline",
    # notices
    "ACCEPTED_SUBJECT", "ACCEPTED_TEXT", "AWARD_SUBJECT", "AWARD_TEXT", "CREATED_SUBJECT", "CREATED_TEXT",
    "DECISION_SUBJECT", "DECISION_TEXT", "DECLINED_SUBJECT", "DECLINED_TEXT", "INVITED_SUBJECT", "INVITED_TEXT",
    "STATUS_SUBJECT", "STATUS_TEXT",
    # charts
    "Chart", "ChartPoint", "kpi_chart", "progress",
]
