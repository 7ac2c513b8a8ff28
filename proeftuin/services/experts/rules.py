"""The rules the other modules share: in which statuses a question is still active, answerable or
assignable, the default due date (a number of working days from today) and when a question is
overdue.
"""
from __future__ import annotations

from datetime import date, timedelta

from proeftuin.enums import QuestionStatus
from proeftuin.models import ExpertQuestion

ACTIVE_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ASSIGNED)
ANSWERABLE_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ASSIGNED)
ASSIGNABLE_STATUSES = (QuestionStatus.OPEN, QuestionStatus.ASSIGNED)
DEFAULT_WORKING_DAYS = 10


def add_working_days(start: date, days: int) -> date:
    """`start` plus `days` working days (Monday to Friday; public holidays are not counted out)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def default_due_date(today: date | None = None) -> date:
    return add_working_days(today or date.today(), DEFAULT_WORKING_DAYS)


def is_overdue(question: ExpertQuestion, today: date | None = None) -> bool:
    """Past its due date and not answered yet."""
    today = today or date.today()
    return question.status in ACTIVE_STATUSES and question.due_on is not None and question.due_on < today
