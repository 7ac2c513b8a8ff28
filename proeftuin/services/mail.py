"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise an outbox folder of .eml files.

The standard library's `email` and `smtplib` cover this in a few lines, so no extension is used.
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
import unicodedata
import uuid
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

logger = logging.getLogger(__name__)

SUBJECT_MAX_LENGTH = 150
# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned characters,
# and the Unicode line and paragraph separators: none of them belong in a header.
_NOT_IN_HEADERS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class InvalidRecipient(smtplib.SMTPException, ValueError):
    """The recipient is not exactly one plain e-mail address; nothing was sent.

    An `smtplib.SMTPException` (hence an `OSError`), like a recipient the server refuses, so callers
    that log failed deliveries and go on with the next recipient treat both alike.
    """


def header_text(value: str, max_length: int = SUBJECT_MAX_LENGTH) -> str:
    """Make user text safe for a mail header: one line, printable, at most `max_length` characters.

    Subjects carry user text (challenge titles, organisation names). CR, LF and every other control
    or separator character become a space, runs of white space collapse to one, and a long value is
    cut with an ellipsis, so no user text can start a header of its own (`Bcc:`) or fold oddly.

    Args:
        value: the text, e.g. a subject built from a challenge title.
        max_length: the longest result, ellipsis included.

    Returns:
        The cleaned text.
    """
    cleaned = "".join(" " if unicodedata.category(char) in _NOT_IN_HEADERS else char for char in str(value))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) > max_length:
        cleaned = cleaned[: max_length - 1].rstrip() + "\u2026"
    return cleaned


def recipient_address(to: str) -> str:
    """Check that `to` is one bare address (``name@domain``) and return it.

    Raises:
        InvalidRecipient: for anything else: white space or control characters, several
            addresses, a display name, a missing domain, or more than 254 characters.
    """
    if not isinstance(to, str) or not 3 <= len(to) <= 254:
        raise InvalidRecipient("recipient address is missing or too long")
    if any(char.isspace() or unicodedata.category(char) in _NOT_IN_HEADERS for char in to):
        raise InvalidRecipient("recipient address contains white space or control characters")
    if any(char in to for char in ',;<>()[]:"\\'):
        raise InvalidRecipient("recipient must be a single bare address")
    try:
        address = Address(addr_spec=to)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise InvalidRecipient("recipient address does not parse") from exc
    if not address.username or not address.domain or "." not in address.domain or address.addr_spec != to:
        raise InvalidRecipient("recipient address is not a plain name@domain")
    return to


def outbox_dir() -> Path:
    configured = current_app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


def queue_mail(to: str, subject: str, body: str) -> None:
    """Record one plain-text message in the caller's transaction; the worker sends it after commit.

    A rolled-back change therefore sends nothing. The recipient is checked now, so a bad address
    fails where it was given.

    Raises:
        InvalidRecipient: `to` is not a single plain address; nothing is queued.
    """
    from proeftuin.services import outbox

    outbox.record("mail", {"to": recipient_address(to), "subject": header_text(subject), "body": body})


def deliver(to: str, subject: str, body: str, message_id: str | None = None) -> None:
    """Send one plain-text message now (or write it to the mail folder): the worker's side.

    Every header value passes through here: the subject is cleaned by `header_text` and the
    recipient checked by `recipient_address`, so callers may build subjects from user text.

    Raises:
        InvalidRecipient: `to` is not a single plain address; nothing is sent.
    """
    to = recipient_address(to)
    subject = header_text(subject)
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    # The outbox effect's id makes the Message-ID, so a re-run after a crash can be recognised.
    msg["Message-ID"] = message_id or make_msgid(domain="proeftuin.localhost")
    msg.set_content(body)
    server = current_app.config.get("MAIL_SERVER")
    if server:
        with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=10) as smtp:
            if current_app.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if current_app.config.get("MAIL_USERNAME"):
                smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
            smtp.send_message(msg)
        logger.info("mail sent via SMTP subject=%r", subject)
        return
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
    tmp = folder / (name + ".tmp")
    tmp.write_bytes(bytes(msg))
    os.replace(tmp, folder / name)
    logger.info("mail written to outbox %s", name)
