"""Business logic: typed functions that own their transaction and raise domain errors.

Views and CLI commands call the same functions; the acting user is always passed in.
"""
from __future__ import annotations


class DomainError(Exception):
    """Base class for errors a user can cause; the message is shown to them (translated)."""

    status_code = 400

    def __init__(self, message: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist or the actor may not know it exists."""

    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The action clashes with existing state (already applied, name taken)."""

    status_code = 409


class InvalidTransition(DomainError):
    """The object's status does not allow this action."""

    status_code = 409


class InvalidInput(DomainError):
    status_code = 400


class NoGoodMatch(DomainError):
    """A description search found no real evidence (too short, or nothing fits it well)."""

    status_code = 200
