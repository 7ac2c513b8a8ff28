"""Route x role rows of the buyer groups (picked up by test_access_matrix and test_csrf).

A's side: a confirmed group of Gent's (muniA) published challenge and one of Brugge, so Leuven
(muniB) is not a member and gets 404; and a proposed group of Leuven and Kortrijk, which no
municipality may see before a facilitator confirms it.
"""
from __future__ import annotations

from tests.test_access_matrix import PRINCIPALS, only

STAFF_ONLY_200 = only({"facilitator": 200, "admin": 200})
STAFF_ONLY_302 = only({"facilitator": 302, "admin": 302})
MEMBER_A_302 = only({"muniA": 302, "muniB": 404})

POLICY = {
    "buyer_groups.index": ("GET", "/buyer-groups/", None,
                           only({"muniA": 200, "muniB": 200, "facilitator": 200, "admin": 200})),
    "buyer_groups.suggestions": ("GET", "/buyer-groups/suggestions", None, STAFF_ONLY_200),
    "buyer_groups.detail": ("GET", "/buyer-groups/{buyer_group}", None,
                            only({"muniA": 200, "muniB": 404, "facilitator": 200, "admin": 200})),
    "buyer_groups.confirm": ("POST", "/buyer-groups/{proposed_buyer_group}/confirm", {"name": "Joint pilot"},
                             STAFF_ONLY_302),
    "buyer_groups.join": ("POST", "/buyer-groups/{buyer_group}/join", {}, MEMBER_A_302),
    "buyer_groups.decline": ("POST", "/buyer-groups/{buyer_group}/decline", {}, MEMBER_A_302),
    "buyer_groups.close": ("POST", "/buyer-groups/{buyer_group}/close", {}, STAFF_ONLY_302),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    from proeftuin.enums import BuyerGroupStatus, OrgKind, Region
    from proeftuin.extensions import db
    from proeftuin.models import BuyerGroup, BuyerGroupMember, Challenge
    from tests.conftest import make_challenge, make_org

    world.markers["buyer_group"] = "SECRET-buyer_group-MARKER"
    world.markers["proposed_buyer_group"] = "SECRET-proposed_buyer_group-MARKER"
    brugge = make_org(OrgKind.MUNICIPALITY, "Brugge", "31005", Region.WEST_VLAANDEREN)
    kortrijk = make_org(OrgKind.MUNICIPALITY, "Kortrijk", "34022", Region.WEST_VLAANDEREN)
    leuven_challenge = db.session.scalar(db.select(Challenge).where(Challenge.title == "Open challenge of Leuven"))
    confirmed = BuyerGroup(
        name="School streets " + world.markers["buyer_group"], status=BuyerGroupStatus.CONFIRMED,
        created_by_id=world.ids["facilitator"], reasons={},
        members=[BuyerGroupMember(challenge_id=world.ids["published"]),
                 BuyerGroupMember(challenge_id=make_challenge(brugge, "Open challenge of Brugge").id)],
    )
    proposed = BuyerGroup(
        name="Heat " + world.markers["proposed_buyer_group"], status=BuyerGroupStatus.PROPOSED,
        created_by_id=world.ids["facilitator"], reasons={},
        members=[BuyerGroupMember(challenge_id=leuven_challenge.id),
                 BuyerGroupMember(challenge_id=make_challenge(kortrijk, "Open challenge of Kortrijk").id)],
    )
    db.session.add_all([confirmed, proposed])
    db.session.commit()
    return {"buyer_group": confirmed.id, "proposed_buyer_group": proposed.id}
