"""Route x role rows of the organisation settings and the logo route (issue 10).

Every principal of the matrix is its organisation's admin; members and viewers are covered in
tests/test_organisation_settings.py. The logo row serves the logo of an organisation of its own
(verified), so that the admins' "remove logo" POSTs never touch it.
"""
from __future__ import annotations

from tests.test_access_matrix import PRINCIPALS, only

ORG_ADMINS = ("muniA", "muniB", "suA", "suB")

POLICY = {
    "organisation_settings.edit": ("GET", "/organisation/settings/", None, only({p: 200 for p in ORG_ADMINS})),
    # No file: the page again with the form error (200); staff have no organisation settings (403).
    "organisation_settings.upload_logo": ("POST", "/organisation/settings/logo", {},
                                          only({p: 200 for p in ORG_ADMINS})),
    "organisation_settings.remove_logo": ("POST", "/organisation/settings/logo/remove", {},
                                          only({p: 302 for p in ORG_ADMINS})),
    "organisation_settings.logo": ("GET", "/organisation/logo/{org_with_logo}", None,
                                   {p: 200 for p in PRINCIPALS}),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    from io import BytesIO

    from PIL import Image

    from proeftuin.enums import OrgKind, Role
    from proeftuin.extensions import db
    from proeftuin.services import organisation_settings
    from tests.conftest import make_org, make_user

    org = make_org(OrgKind.STARTUP, "Start-up with a logo")
    owner = make_user("owner@logo.example", Role.STARTUP, org)
    db.session.commit()
    buffer = BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, "PNG")
    buffer.seek(0)
    organisation_settings.set_logo(owner, buffer)
    return {"org_with_logo": org.id}
