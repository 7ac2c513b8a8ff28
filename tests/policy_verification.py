"""Route x role rows of organisation verification and settings (picked up by test_access_matrix and test_csrf).

A pending start-up and a verified one of their own, so that verify, reject and revoke never touch
the organisations the other rows rely on.
"""
from __future__ import annotations

from tests.test_access_matrix import PRINCIPALS, only

STAFF_ONLY_302 = only({"facilitator": 302, "admin": 302})

POLICY = {
    "admin.organisations": ("GET", "/admin/organisations/", None, only({"facilitator": 200, "admin": 200})),
    "admin.verify": ("POST", "/admin/organisations/{org_pending}/verify", {}, STAFF_ONLY_302),
    "admin.reject": ("POST", "/admin/organisations/{org_pending}/reject", {"reason": "Not a company e-mail."},
                     STAFF_ONLY_302),
    "admin.revoke": ("POST", "/admin/organisations/{org_verified}/revoke", {"reason": "Closed down."},
                     STAFF_ONLY_302),
    "auth.organisation_settings": ("POST", "/auth/account/organisation", {"org-organisation_name": "Renamed"},
                                   only({"muniA": 404, "muniB": 404, "suA": 302, "suB": 302})),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    from proeftuin.enums import OrgKind, Role
    from proeftuin.extensions import db
    from tests.conftest import make_org, make_user

    pending = make_org(OrgKind.STARTUP, "Pending start-up", verified=False)
    verified = make_org(OrgKind.STARTUP, "Verified start-up")
    make_user("founder@pending.example", Role.STARTUP, pending)
    make_user("founder@verified.example", Role.STARTUP, verified)
    db.session.commit()
    return {"org_pending": pending.id, "org_verified": verified.id}
