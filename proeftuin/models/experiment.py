from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import Decision, ExperimentStatus, ProcurementRoute
from proeftuin.extensions import db
from proeftuin.models.challenge import Challenge
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow

experiment_startup = sa.Table(
    "experiment_startup",
    db.metadata,
    sa.Column("experiment_id", sa.ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisation.id"), primary_key=True),
)
experiment_municipality = sa.Table(
    "experiment_municipality",
    db.metadata,
    sa.Column("experiment_id", sa.ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisation.id"), primary_key=True),
)


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
    startups: Mapped[list[Organisation]] = relationship(secondary=experiment_startup, order_by=Organisation.name)
    municipalities: Mapped[list[Organisation]] = relationship(
        secondary=experiment_municipality, order_by=Organisation.name
    )
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
