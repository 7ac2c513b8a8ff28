"""The expert pool: expertise profiles (/experts), questions (/questions) and the knowledge base (/knowledge).

One blueprint for the three pages of one workflow: a municipality asks, the engine proposes experts,
a facilitator assigns one, the expert answers, and staff publish an anonymised copy.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from proeftuin import policy
from proeftuin.access import ANYONE, STAFF, allow
from proeftuin.blueprints.actions import run_action
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.expert_forms import (
    ActionForm,
    AnswerForm,
    AssignForm,
    ExpertProfileForm,
    MessageForm,
    PublishForm,
    QuestionForm,
)
from proeftuin.blueprints.matching_support import semantic_results
from proeftuin.enums import Language, Role
from proeftuin.extensions import db
from proeftuin.services import InvalidInput, anonymiser
from proeftuin.services import experts as expert_service
from proeftuin.services.listing import page_args

bp = Blueprint("experts", __name__)


def _page_args() -> tuple[int, int]:
    try:
        return page_args(request.args, current_app.config["PER_PAGE"], current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)


def _ui_language() -> str:
    locale = str(get_locale())
    return locale if locale in Language.values() else Language.NL.value


def _detail_url(question_id: int, anchor: str | None = None) -> str:
    return url_for("experts.question", question_id=question_id, _anchor=anchor)


# ---- expertise profiles --------------------------------------------------------------------

@bp.route("/experts/")
@allow(*STAFF)
def pool():
    return render_template("experts/pool.html", entries=expert_service.pool(current_user),
                           own=expert_service.own_profile(current_user))


@bp.route("/experts/profile", methods=["GET", "POST"])
@allow(*STAFF)
def profile():
    profile = expert_service.own_profile(current_user)
    form = ExpertProfileForm()
    form.fill_from(profile, _ui_language())
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            profile = expert_service.save_profile(current_user, form.to_data())
        if outcome.ok:
            flash(_("Your expertise profile is saved."), "success")
            return redirect(url_for("experts.pool"))
    return render_template("experts/profile.html", form=form, profile=profile)


# ---- questions -----------------------------------------------------------------------------

@bp.route("/questions/")
@allow(Role.MUNICIPALITY, *STAFF)
def questions():
    try:
        filters = expert_service.QuestionFilters.from_args(request.args)
    except InvalidInput:
        abort(400)
    page, per_page = _page_args()
    today = date.today()
    pagination = db.paginate(expert_service.list_query(current_user, filters, today), page=page,
                             per_page=per_page, error_out=False)
    return render_template("questions/index.html", pagination=pagination, filters=filters,
                           is_staff=policy.is_staff(current_user), today=today,
                           is_overdue=expert_service.is_overdue)


@bp.route("/questions/new", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY)
def ask():
    challenges = expert_service.own_challenges(current_user)
    form = QuestionForm(challenges=challenges)
    if not form.is_submitted():
        form.language.data = _ui_language()
        wanted = request.args.get("challenge", "")
        if wanted in {str(c.id) for c in challenges}:
            form.challenge_id.data = wanted
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            question = expert_service.ask(current_user, form.to_data())
        if outcome.ok:
            flash(_("Your question is sent to the expert pool. You will be told when an expert takes it up."),
                  "success")
            return redirect(_detail_url(question.id))
    return render_template("questions/new.html", form=form)


def _render_question(question, *, assign_form=None, message_form=None, answer_form=None):
    staff = policy.is_staff(current_user)
    proposals, unavailable = [], False
    assignable = question.status in expert_service.ASSIGNABLE_STATUSES
    if staff and assignable:
        proposals, unavailable = semantic_results(lambda: expert_service.propose_experts(question))
        if assign_form is None:
            assign_form = AssignForm(formdata=None, experts=expert_service.assignable_experts())
            default = question.expert_id or (proposals[0].profile.user_id if proposals else None)
            assign_form.expert_id.data = str(default) if default else None
            assign_form.due_on.data = question.due_on or expert_service.default_due_date()
    can_write = question.status.value != "closed"
    return render_template(
        "questions/detail.html",
        question=question,
        is_staff=staff,
        overdue=expert_service.is_overdue(question),
        proposals=proposals,
        unavailable=unavailable,
        assign_form=assign_form if staff and assignable else None,
        message_form=(message_form or MessageForm(formdata=None)) if can_write else None,
        answer_form=(answer_form or AnswerForm(formdata=None))
        if staff and question.status in expert_service.ANSWERABLE_STATUSES else None,
        action_form=ActionForm(formdata=None),
    )


@bp.route("/questions/<int:question_id>")
@allow(Role.MUNICIPALITY, *STAFF)
def question(question_id: int):
    return _render_question(expert_service.get_visible(current_user, question_id))


@bp.route("/questions/<int:question_id>/assign", methods=["POST"])
@allow(*STAFF)
def assign(question_id: int):
    question = expert_service.get_visible(current_user, question_id)
    form = AssignForm(experts=expert_service.assignable_experts())
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            question = expert_service.assign(current_user, question_id, int(form.expert_id.data), form.due_on.data)
        if outcome.ok:
            flash(_("The question is assigned to %(name)s.", name=question.expert.name), "success")
            return redirect(_detail_url(question_id))
        if not outcome.on_form:  # flashed: back to the question
            return redirect(_detail_url(question_id))
    return _render_question(question, assign_form=form)


@bp.route("/questions/<int:question_id>/messages", methods=["POST"])
@allow(Role.MUNICIPALITY, *STAFF)
def post_message(question_id: int):
    question = expert_service.get_visible(current_user, question_id)
    form = MessageForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            expert_service.post_message(current_user, question_id, form.body.data)
        if outcome.ok:
            flash(_("Your message is sent."), "success")
            return redirect(_detail_url(question_id, "thread"))
        if not outcome.on_form:  # flashed: back to the question
            return redirect(_detail_url(question_id))
    return _render_question(question, message_form=form)


@bp.route("/questions/<int:question_id>/answer", methods=["POST"])
@allow(*STAFF)
def answer(question_id: int):
    question = expert_service.get_visible(current_user, question_id)
    form = AnswerForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            expert_service.answer(current_user, question_id, form.answer.data)
        if outcome.ok:
            flash(_("The answer is sent to the municipality."), "success")
            return redirect(_detail_url(question_id))
        if not outcome.on_form:  # flashed: back to the question
            return redirect(_detail_url(question_id))
    return _render_question(question, answer_form=form)


@bp.route("/questions/<int:question_id>/close", methods=["POST"])
@allow(*STAFF)
def close(question_id: int):
    return run_action(ActionForm(), lambda: expert_service.close(current_user, question_id),
                      _("The question is closed."), _detail_url(question_id))


@bp.route("/questions/<int:question_id>/publish", methods=["GET", "POST"])
@allow(*STAFF)
def publish(question_id: int):
    question = expert_service.get_visible(current_user, question_id)
    with domain_errors() as outcome:
        draft = expert_service.publication_draft(current_user, question_id)
    if outcome.failed:
        return redirect(_detail_url(question_id))
    # A POST publishes exactly what staff sent; the anonymised draft only fills the form.
    form = PublishForm() if request.method == "POST" else PublishForm(data=asdict(draft))
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            expert_service.publish(current_user, question_id, form.to_public(), confirmed=form.confirm.data)
        if outcome.ok:
            flash(_("The anonymised question and answer are in the knowledge base."), "success")
            return redirect(url_for("experts.knowledge_entry", question_id=question_id))
    # The highlighted preview is of the text in the form: the draft, or what staff just sent.
    review = expert_service.review_publication(current_user, question_id, form.to_public())
    return render_template("questions/publish.html", form=form, question=question, review=review,
                           kind_labels=anonymiser.PLACEHOLDERS)


@bp.route("/questions/<int:question_id>/unpublish", methods=["POST"])
@allow(*STAFF)
def unpublish(question_id: int):
    return run_action(ActionForm(), lambda: expert_service.unpublish(current_user, question_id),
                      _("The entry is taken out of the knowledge base."), _detail_url(question_id))


# ---- the knowledge base (public, anonymised copies only) -----------------------------------

@bp.route("/knowledge/")
@allow(ANYONE)
def knowledge():
    try:
        filters = expert_service.KnowledgeFilters.from_args(request.args)
    except InvalidInput:
        abort(400)
    page, per_page = _page_args()
    pagination = db.paginate(expert_service.knowledge_query(filters), page=page, per_page=per_page,
                             error_out=False)
    entries = [expert_service.entry_of(q) for q in pagination.items]
    return render_template("knowledge/index.html", pagination=pagination, entries=entries, filters=filters)


@bp.route("/knowledge/<int:question_id>")
@allow(ANYONE)
def knowledge_entry(question_id: int):
    return render_template("knowledge/entry.html", entry=expert_service.get_published(question_id))
