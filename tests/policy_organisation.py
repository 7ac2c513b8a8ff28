"""Route x role rows of the organisation (team) pages; see test_access_matrix.

Every principal of the world is the (only) admin of its organisation. Gent (muniA) also has two
members, a pending invitation and a join request: only Gent's admin acts on them (404 for the
admins of other organisations, 403 for staff, who have no team). Leaving is refused to every last
admin with a message (302 back to the page); staff belong to no team (404). Team roles beyond admin
(members, viewers, former members) are in tests/test_teams.py.
"""
from __future__ import annotations

from tests.test_access_matrix import PRINCIPALS, only

INVITATION_TOKEN = "matrix-invitation-token"
TEAMS = {"muniA": 302, "muniB": 302, "suA": 302, "suB": 302}
GENT_ONLY = only({"muniA": 302, "muniB": 404, "suA": 404, "suB": 404})

POLICY = {
    "organisation.index": ("GET", "/organisation/", None,
                           only({"muniA": 200, "muniB": 200, "suA": 200, "suB": 200}, 404)),
    "organisation.invitation": ("GET", "/organisation/invitations/" + INVITATION_TOKEN, None,
                                {p: 200 for p in PRINCIPALS}),
    "organisation.invite": ("POST", "/organisation/invitations", {"email": "colleague@example.org", "role": "member"},
                            only(TEAMS)),
    "organisation.resend": ("POST", "/organisation/invitations/{team_invitation}/resend", {}, GENT_ONLY),
    "organisation.revoke": ("POST", "/organisation/invitations/{team_invitation}/revoke", {}, GENT_ONLY),
    "organisation.change_role": ("POST", "/organisation/members/{team_member}/role", {"role": "viewer"}, GENT_ONLY),
    "organisation.remove": ("POST", "/organisation/members/{team_member_2}/remove", {}, GENT_ONLY),
    "organisation.decide": ("POST", "/organisation/join-requests/{team_join_request}/decision",
                            {"decision": "refuse"}, GENT_ONLY),
    "organisation.leave": ("POST", "/organisation/leave", {}, only(TEAMS, 404)),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    """Two members of Gent, a pending invitation to Gent and a join request for Gent."""
    from datetime import UTC, datetime, timedelta

    from proeftuin.enums import OrgRole, Role
    from proeftuin.extensions import db
    from proeftuin.models import Invitation, JoinRequest, Organisation, User
    from proeftuin.services.teams import hash_token
    from tests.conftest import make_user

    gent = db.session.get(Organisation, world.ids["org_muniA"])
    member = make_user("matrix-member@example.org", Role.MUNICIPALITY, gent, OrgRole.MEMBER)
    member_2 = make_user("matrix-member-2@example.org", Role.MUNICIPALITY, gent, OrgRole.MEMBER)
    pending = make_user("matrix-joiner@example.org", Role.MUNICIPALITY)
    invitation = Invitation(organisation_id=gent.id, email="matrix-invited@example.org", role=OrgRole.MEMBER,
                            token_hash=hash_token(INVITATION_TOKEN), invited_by_id=world.ids["muniA"],
                            expires_at=datetime.now(UTC) + timedelta(days=7))
    join_request = JoinRequest(organisation_id=gent.id, user_id=pending.id)
    db.session.add_all([invitation, join_request])
    db.session.commit()
    assert db.session.get(User, pending.id).organisation_id is None
    return {"team_member": member.id, "team_member_2": member_2.id, "team_invitation": invitation.id,
            "team_join_request": join_request.id}
