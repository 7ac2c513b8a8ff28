from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from proeftuin.enums import Decision, ExperimentStatus, ParticipationState, ProcurementRoute
from proeftuin.extensions import db
from proeftuin.models.challenge import Challenge
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class Participation:
    """One organisation's place in an experiment and its consent (a mixin of the two tables below).

    Only an accepted participation makes the organisation a party. Rows that existed before
    invitations (and the challenge's own municipality) are accepted; an organisation added
    later is invited until its members accept or decline. A declined row stays, so the
    organisation can be invited again.
    """

    experiment_id: Mapped[int] = mapped_column(sa.ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), primary_key=True)
    state: Mapped[ParticipationState] = mapped_column(
        enum_type(ParticipationState), default=ParticipationState.ACCEPTED,
        server_default=ParticipationState.ACCEPTED.value)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @declared_attr
    def organisation(cls) -> Mapped[Organisation]:
        return relationship(lazy="joined")

    @property
    def pending(self) -> bool:
        return self.state == ParticipationState.INVITED


class StartupParticipation(Participation, db.Model):
    __tablename__ = "experiment_startup"


class MunicipalityParticipation(Participation, db.Model):
    __tablename__ = "experiment_municipality"


experiment_startup = StartupParticipation.__table__
experiment_municipality = MunicipalityParticipation.__table__


def _parties(table: sa.Table, participations: str) -> dict:
    """The accepted organisations of one participation table.

    Appending an organisation here makes it a party at once (the state's default is accepted), which
    builders and fixtures use; the services write the participations, which carry who invited whom.
    """
    return {
        "secondary": table,
        "primaryjoin": lambda: sa.and_(Experiment.id == table.c.experiment_id,
                                       table.c.state == ParticipationState.ACCEPTED),
        "secondaryjoin": lambda: Organisation.id == table.c.organisation_id,
        "order_by": Organisation.name,
        "overlaps": f"{participations},organisation",
    }


class Experiment(db.Model):
    """A pilot: a challenge tried out by one or more start-ups with one or more municipalities."""

    __tablename__ = "experiment"
    __table_args__ = (
        sa.CheckConstraint("end_date IS NULL OR start_date IS NULL OR start_date <= end_date", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    challenge_id: Mapped[int] = mapped_column(sa.ForeignKey("challenge.id"), index=True)
    buyer_group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buyer_group.id"))
    suggestion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_suggestion.id"))
    hypothesis: Mapped[str] = mapped_column(sa.Text)
    start_date: Mapped[date | None] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    budget: Mapped[int | None]
    ip_terms: Mapped[str | None] = mapped_column(sa.Text)
    equipment_terms: Mapped[str | None] = mapped_column(sa.Text)
    data_terms: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[ExperimentStatus] = mapped_column(
        enum_type(ExperimentStatus), default=ExperimentStatus.PROPOSED, index=True
    )
    decision: Mapped[Decision | None] = mapped_column(enum_type(Decision))
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    procurement_route: Mapped[ProcurementRoute | None] = mapped_column(enum_type(ProcurementRoute))
    procurement_value: Mapped[int | None]
    procurement_awarded: Mapped[bool | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    challenge: Mapped[Challenge] = relationship()
    # parties: organisations whose participation is accepted
    startups: Mapped[list[Organisation]] = relationship(**_parties(experiment_startup, "startup_participations"))
    municipalities: Mapped[list[Organisation]] = relationship(
        **_parties(experiment_municipality, "municipality_participations"))
    # every participation, invitations and declines included
    startup_participations: Mapped[list[StartupParticipation]] = relationship(
        cascade="all, delete-orphan", order_by=StartupParticipation.organisation_id, overlaps="startups")
    municipality_participations: Mapped[list[MunicipalityParticipation]] = relationship(
        cascade="all, delete-orphan", order_by=MunicipalityParticipation.organisation_id, overlaps="municipalities")
    kpis: Mapped[list[Kpi]] = relationship(back_populates="experiment", cascade="all, delete-orphan",
                                           order_by="Kpi.id")
    events: Mapped[list[ExperimentEvent]] = relationship(cascade="all, delete-orphan",
                                                         order_by="ExperimentEvent.at")


class Kpi(db.Model):
    __tablename__ = "kpi"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(sa.ForeignKey("experiment.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    unit: Mapped[str] = mapped_column(sa.String(40))
    baseline: Mapped[float | None]
    target: Mapped[float]
    higher_is_better: Mapped[bool] = mapped_column(default=True)

    experiment: Mapped[Experiment] = relationship(back_populates="kpis")
    measurements: Mapped[list[KpiMeasurement]] = relationship(
        cascade="all, delete-orphan", order_by="KpiMeasurement.measured_on"
    )

    @property
    def latest(self) -> float | None:
        return self.measurements[-1].value if self.measurements else None

    @property
    def target_met(self) -> bool | None:
        if self.latest is None:
            return None
        return self.latest >= self.target if self.higher_is_better else self.latest <= self.target


class KpiMeasurement(db.Model):
    __tablename__ = "kpi_measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(sa.ForeignKey("kpi.id", ondelete="CASCADE"), index=True)
    measured_on: Mapped[date] = mapped_column(sa.Date)
    value: Mapped[float]
    note: Mapped[str | None] = mapped_column(sa.String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExperimentEvent(db.Model):
    """The experiment's timeline: status changes, measurements, decisions, notes."""

    __tablename__ = "experiment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(sa.ForeignKey("experiment.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    text: Mapped[str] = mapped_column(sa.Text)
