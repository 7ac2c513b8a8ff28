"""Access policy of the procedure guidance (picked up by test_access_matrix and test_csrf)."""
from __future__ import annotations

from tests.test_access_matrix import only

POLICY = {
    # The owning municipality and staff; other municipalities get 404, start-ups 403 (by role).
    "guidance.questionnaire": ("GET", "/challenges/{draft}/guidance", None,
                               only({"muniA": 200, "muniB": 404, "facilitator": 200, "admin": 200})),
    "guidance.set_route": ("POST", "/challenges/{draft}/guidance/route", {"route": "market_consultation"},
                           only({"muniA": 302, "muniB": 404})),
}
