"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise an outbox folder of .eml files.

The standard library's `email` and `smtplib` cover this in a few lines, so no extension is used.
"""
from __future__ import annotations

import logging
import os
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

logger = logging.getLogger(__name__)


def outbox_dir() -> Path:
    configured = current_app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text message (or write it to the outbox)."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="proeftuin.localhost")
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
