"""Experiments (pilots): open one from an accepted match, a challenge or a buyer group; plan it,
measure its KPIs, decide go / no go and follow the procurement that comes after.

Every route below the list needs a signed-in user; what they may do on one experiment is decided
by the service from their relation to it (manager, start-up party, invited organisation, or
nobody: 404). An invited organisation sees only its invitation, and accepts or declines it.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from proeftuin.access import SIGNED_IN, STAFF, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.experiment_forms import (
    ConfirmForm,
    DecisionForm,
    ExperimentForm,
    InviteForm,
    KpiForm,
    MeasurementForm,
    NoteForm,
    PlanForm,
    ProcurementForm,
    StatusForm,
)
from proeftuin.enums import ExperimentStatus, Role
from proeftuin.extensions import db
from proeftuin.services import InvalidInput
from proeftuin.services import experiments as experiment_service
from proeftuin.services.listing import id_arg, page_args

bp = Blueprint("experiments", __name__, url_prefix="/experiments")

STATUS_MESSAGES = {
    ExperimentStatus.PLANNED: _l("The experiment is planned."),
    ExperimentStatus.RUNNING: _l("The experiment is running."),
    ExperimentStatus.EVALUATED: _l("The experiment is evaluated."),
    ExperimentStatus.PROCUREMENT: _l("The follow-up procurement has started."),
    ExperimentStatus.STOPPED: _l("The experiment is stopped."),
}
NEXT_STEP_LABELS = {
    ExperimentStatus.PLANNED: _l("Mark as planned"),
    ExperimentStatus.RUNNING: _l("Start the experiment"),
    ExperimentStatus.EVALUATED: _l("Close the measurements and evaluate"),
    ExperimentStatus.PROCUREMENT: _l("Start the follow-up procurement"),
}


def _detail_url(experiment_id: int, anchor: str | None = None) -> str:
    return url_for("experiments.detail", experiment_id=experiment_id, _anchor=anchor)


def _submit_on_detail(experiment, form, form_name: str, action, done: str, anchor):
    """The shape every panel form of the detail page shares: validate, call the service, flash, redirect.

    On a validation or domain error the detail page is shown again with the form as typed.
    `anchor` is a string or a callable (evaluated after a successful save).
    """
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            action()
        if outcome.ok:
            flash(done, "success")
            return redirect(_detail_url(experiment.id, anchor() if callable(anchor) else anchor))
    return _show_detail(experiment, **{form_name: form})


def _show_detail(experiment, **forms):
    """Render the experiment page; a form passed in (with its errors and input) replaces the blank one."""
    role = experiment_service.role_on(current_user, experiment)
    manage = role in ("staff", "municipality")
    next_status = experiment_service.NEXT.get(experiment.status)
    kpis = [
        {
            "kpi": kpi,
            "chart": experiment_service.kpi_chart(kpi, experiment.start_date, experiment.end_date),
            "progress": experiment_service.progress(kpi),
        }
        for kpi in experiment.kpis
    ]
    defaults = {
        "kpi_form": lambda: KpiForm(formdata=None),
        "measurement_form": lambda: MeasurementForm(formdata=None, kpis=experiment.kpis),
        "note_form": lambda: NoteForm(formdata=None),
        "decision_form": lambda: DecisionForm(formdata=None, data={
            "decision": experiment.decision.value if experiment.decision else None,
            "note": experiment.decision_note}),
        "procurement_form": lambda: ProcurementForm(formdata=None, data=ProcurementForm.initial(experiment)),
        "stop_form": lambda: StatusForm(formdata=None),
        "invite_form": lambda: InviteForm(
            formdata=None, organisations=experiment_service.invite_choices(experiment) if manage else ()),
    }
    for name, build in defaults.items():
        forms.setdefault(name, build())
    return render_template(
        "experiments/detail.html",
        experiment=experiment,
        role=role,
        manage=manage,
        final=experiment.status in experiment_service.FINAL,
        measurable=experiment.status in experiment_service.MEASURABLE,
        decidable=experiment.status in experiment_service.DECIDABLE,
        procurement_editable=experiment.status in experiment_service.PROCUREMENT_EDITABLE,
        flow=experiment_service.FLOW,
        next_status=next_status,
        next_label=NEXT_STEP_LABELS.get(next_status),
        next_blockers=experiment_service.blockers(experiment, next_status) if next_status else [],
        advice=experiment_service.advice(experiment),
        stop_reason=experiment_service.stop_reason(experiment),
        kpis=kpis,
        recorders=experiment_service.recorders(experiment),
        timeline=experiment_service.timeline(experiment),
        invitations=experiment_service.open_invitations(experiment) if manage else [],
        confirm_form=ConfirmForm(formdata=None),
        **forms,
    )


# ---- list and create -----------------------------------------------------------------------

@bp.route("/")
@allow(SIGNED_IN)
def index():
    try:
        filters = experiment_service.ListFilters.from_args(request.args)
        page, per_page = page_args(request.args, current_app.config["PER_PAGE"], current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)
    pagination = db.paginate(experiment_service.list_query(current_user, filters), page=page, per_page=per_page,
                             error_out=False)
    return render_template(
        "experiments/index.html", pagination=pagination, filters=filters,
        invitations=experiment_service.pending_invitations(current_user),
        confirm_form=ConfirmForm(formdata=None),
        counts=experiment_service.status_counts(current_user),
        may_create=current_user.role in (Role.MUNICIPALITY, *STAFF),
        next_of=experiment_service.NEXT,
        blockers_of=experiment_service.blockers,
    )


def _source_arg(name: str) -> int | None:
    try:
        return id_arg(request.args, name)
    except InvalidInput:
        abort(400)


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY, *STAFF)
def create():
    form = ExperimentForm()
    if form.is_submitted():
        source = {"suggestion_id": form._int_or_none(form.suggestion_id.data),
                  "buyer_group_id": form._int_or_none(form.buyer_group_id.data)}
    else:
        source = {"suggestion_id": _source_arg("suggestion"), "challenge_id": _source_arg("challenge"),
                  "buyer_group_id": _source_arg("buyer_group")}
    with domain_errors() as outcome:
        start = experiment_service.prefill(current_user, **source)
    if outcome.failed:
        start = experiment_service.Prefill()
    challenges = experiment_service.challenge_choices(current_user, start.buyer_group)
    form.challenge.choices = [("", _("Choose a challenge"))] + [
        (c.id, f"{c.title} \u00b7 {c.organisation.name} \u00b7 {c.status.label}") for c in challenges]
    form.set_choices(experiment_service.startup_choices(), experiment_service.municipality_choices())
    if not form.is_submitted():
        form.title.data = start.title
        form.challenge.data = start.challenge_id or (challenges[0].id if len(challenges) == 1 else None)
        form.startups.data = start.startup_ids
        form.municipalities.data = start.municipality_ids
        form.suggestion_id.data = str(start.suggestion.id) if start.suggestion else ""
        form.buyer_group_id.data = str(start.buyer_group.id) if start.buyer_group else ""
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            experiment = experiment_service.create(current_user, form.to_data())
        if outcome.ok:
            flash(_("The experiment is opened. Plan it, agree on the terms and add its KPIs."), "success")
            return redirect(_detail_url(experiment.id))
    return render_template("experiments/form.html", form=form, experiment=None, start=start,
                           has_challenges=bool(challenges))


# ---- one experiment ------------------------------------------------------------------------

@bp.route("/<int:experiment_id>")
@allow(SIGNED_IN)
def detail(experiment_id: int):
    invitation = experiment_service.invitation_for(current_user, experiment_id)
    if invitation is not None:
        return render_template("experiments/invitation.html", invitation=invitation,
                               confirm_form=ConfirmForm(formdata=None))
    return _show_detail(experiment_service.get_readable(current_user, experiment_id))


@bp.route("/<int:experiment_id>/invitations", methods=["POST"])
@allow(SIGNED_IN)
def invite(experiment_id: int):
    experiment = experiment_service.get_manageable(current_user, experiment_id)
    form = InviteForm(organisations=experiment_service.invite_choices(experiment))
    return _submit_on_detail(
        experiment, form, "invite_form",
        lambda: experiment_service.invite(current_user, experiment_id, form.organisation.data),
        _("The invitation is sent. The organisation takes part once one of its members accepts."), "parties",
    )


@bp.route("/<int:experiment_id>/accept", methods=["POST"])
@allow(Role.MUNICIPALITY, Role.STARTUP)
def accept(experiment_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        experiment_service.accept_invitation(current_user, experiment_id)
    if outcome.ok:
        flash(_("You accepted the invitation: your organisation now takes part in the experiment."), "success")
    return redirect(_detail_url(experiment_id))


@bp.route("/<int:experiment_id>/decline", methods=["POST"])
@allow(Role.MUNICIPALITY, Role.STARTUP)
def decline(experiment_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    experiment_service.decline_invitation(current_user, experiment_id)
    flash(_("You declined the invitation. Whoever invited your organisation is told."), "success")
    return redirect(url_for("experiments.index"))


@bp.route("/<int:experiment_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit(experiment_id: int):
    experiment = experiment_service.get_manageable(current_user, experiment_id)
    if experiment.status in experiment_service.FINAL:
        flash(_("This experiment is closed; its plan can no longer be changed."), "error")
        return redirect(_detail_url(experiment_id))
    form = PlanForm.for_experiment(experiment)
    form.set_choices(experiment_service.startup_choices(), experiment_service.municipality_choices(),
                     experiment_service.participation_labels(experiment))
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            experiment_service.update_plan(current_user, experiment_id, form.to_data())
        if outcome.ok:
            flash(_("Your changes are saved."), "success")
            return redirect(_detail_url(experiment_id))
    return render_template("experiments/form.html", form=form, experiment=experiment, start=None,
                           has_challenges=True)


@bp.route("/<int:experiment_id>/status", methods=["POST"])
@allow(SIGNED_IN)
def change_status(experiment_id: int):
    experiment = experiment_service.get_manageable(current_user, experiment_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    with domain_errors(form) as outcome:
        experiment_service.change_status(current_user, experiment_id, form.target.data, form.reason.data)
    if outcome.on_form:
        return _show_detail(experiment, stop_form=form)
    if outcome.failed:
        return redirect(_detail_url(experiment_id, "status"))
    flash(str(STATUS_MESSAGES[ExperimentStatus(form.target.data)]), "success")
    return redirect(_detail_url(experiment_id, "status"))


@bp.route("/<int:experiment_id>/decision", methods=["POST"])
@allow(SIGNED_IN)
def decide(experiment_id: int):
    experiment = experiment_service.get_manageable(current_user, experiment_id)
    form = DecisionForm()
    return _submit_on_detail(
        experiment, form, "decision_form",
        lambda: experiment_service.record_decision(current_user, experiment_id, form.decision.data, form.note.data),
        _("The decision is recorded and the other parties are told."), "decision",
    )


@bp.route("/<int:experiment_id>/procurement", methods=["POST"])
@allow(SIGNED_IN)
def procurement(experiment_id: int):
    experiment = experiment_service.get_manageable(current_user, experiment_id)
    form = ProcurementForm()
    return _submit_on_detail(
        experiment, form, "procurement_form",
        lambda: experiment_service.update_procurement(current_user, experiment_id, form.to_data()),
        _("The follow-up procurement is saved."), "procurement",
    )


@bp.route("/<int:experiment_id>/kpis", methods=["POST"])
@allow(SIGNED_IN)
def add_kpi(experiment_id: int):
    experiment = experiment_service.get_manageable(current_user, experiment_id)
    form = KpiForm()
    return _submit_on_detail(
        experiment, form, "kpi_form",
        lambda: experiment_service.add_kpi(current_user, experiment_id, form.to_data()),
        _("The KPI is added."), "kpis",
    )


@bp.route("/<int:experiment_id>/kpis/<int:kpi_id>/edit", methods=["GET", "POST"])
@allow(SIGNED_IN)
def edit_kpi(experiment_id: int, kpi_id: int):
    experiment, kpi = experiment_service.get_kpi(current_user, experiment_id, kpi_id, manage=True)
    if experiment.status in experiment_service.FINAL:
        flash(_("This experiment is closed; its KPIs can no longer be changed."), "error")
        return redirect(_detail_url(experiment_id, "kpis"))
    form = KpiForm.for_kpi(kpi)
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            experiment_service.update_kpi(current_user, experiment_id, kpi_id, form.to_data())
        if outcome.ok:
            flash(_("The KPI is saved."), "success")
            return redirect(_detail_url(experiment_id, f"kpi-{kpi_id}"))
    return render_template("experiments/kpi_form.html", form=form, experiment=experiment, kpi=kpi)


@bp.route("/<int:experiment_id>/kpis/<int:kpi_id>/delete", methods=["POST"])
@allow(SIGNED_IN)
def delete_kpi(experiment_id: int, kpi_id: int):
    experiment_service.get_kpi(current_user, experiment_id, kpi_id, manage=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        experiment_service.delete_kpi(current_user, experiment_id, kpi_id)
    if outcome.ok:
        flash(_("The KPI is removed."), "success")
    return redirect(_detail_url(experiment_id, "kpis"))


@bp.route("/<int:experiment_id>/measurements", methods=["POST"])
@allow(SIGNED_IN)
def add_measurement(experiment_id: int):
    experiment = experiment_service.get_readable(current_user, experiment_id)
    form = MeasurementForm(kpis=experiment.kpis)
    return _submit_on_detail(
        experiment, form, "measurement_form",
        lambda: experiment_service.add_measurement(current_user, experiment_id, form.kpi.data, form.measured_on.data,
                                                   form.value.data, form.note.data),
        _("The measurement is recorded."), lambda: f"kpi-{form.kpi.data}",
    )


@bp.route("/<int:experiment_id>/measurements/<int:measurement_id>/delete", methods=["POST"])
@allow(SIGNED_IN)
def delete_measurement(experiment_id: int, measurement_id: int):
    experiment_service.get_readable(current_user, experiment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        experiment_service.delete_measurement(current_user, experiment_id, measurement_id)
    if outcome.ok:
        flash(_("The measurement is removed."), "success")
    return redirect(_detail_url(experiment_id, "kpis"))


@bp.route("/<int:experiment_id>/notes", methods=["POST"])
@allow(SIGNED_IN)
def add_note(experiment_id: int):
    experiment = experiment_service.get_readable(current_user, experiment_id)
    form = NoteForm()
    return _submit_on_detail(
        experiment, form, "note_form",
        lambda: experiment_service.add_note(current_user, experiment_id, form.text.data),
        _("The note is added to the timeline."), "timeline",
    )
