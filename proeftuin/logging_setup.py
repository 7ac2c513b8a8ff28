"""Logging to stderr, configured once before the app is created."""
from __future__ import annotations

import logging.config
import os


def configure_logging() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "json": {
                    "()": "pythonjsonlogger.json.JsonFormatter",
                    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                    "rename_fields": {"asctime": "time", "levelname": "level"},
                }
            },
            "handlers": {
                "stderr": {"class": "logging.StreamHandler", "formatter": "json"}
            },
            "root": {"level": level, "handlers": ["stderr"]},
            "loggers": {"alembic.runtime.plugins": {"level": "WARNING"}},
        }
    )
