"""Route x role rows of the account page's own routes, the legal pages and account (de)activation
(picked up by test_access_matrix and test_csrf)."""
from __future__ import annotations

from tests.test_access_matrix import PRINCIPALS, SIGNED_IN_200, everyone, only

SIGNED_IN_302 = only({p: 302 for p in PRINCIPALS if p != "anon"})

POLICY = {
    "main.privacy": ("GET", "/privacy", None, everyone(200)),
    "main.terms": ("GET", "/terms", None, everyone(200)),
    "auth.account_profile": ("POST", "/auth/account/profile", {"profile-name": "Same person", "profile-locale": "nl"},
                             SIGNED_IN_302),
    # A wrong password: the form comes back (200) and nothing changes, for every signed-in principal.
    "auth.change_email": ("POST", "/auth/account/email",
                          {"email-new_email": "elsewhere@example.org", "email-password": "not the password"},
                          SIGNED_IN_200),
    "auth.confirm_email": ("GET", "/auth/account/email/not-a-token", None, everyone(302)),
    "auth.export_data": ("POST", "/auth/account/export", {}, SIGNED_IN_200),
    "auth.delete_account": ("GET", "/auth/account/delete", None, SIGNED_IN_200),
    "admin.users": ("GET", "/admin/users/", None, only({"admin": 200})),
    "admin.deactivate_user": ("POST", "/admin/users/{account_target}/deactivate", {}, only({"admin": 302})),
    "admin.reactivate_user": ("POST", "/admin/users/{account_target}/reactivate", {}, only({"admin": 302})),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    from proeftuin.enums import OrgKind, Role
    from proeftuin.extensions import db
    from tests.conftest import make_org, make_user

    org = make_org(OrgKind.STARTUP, "Account target start-up")
    target = make_user("target@accounts.example", Role.STARTUP, org)
    db.session.commit()
    return {"account_target": target.id}
