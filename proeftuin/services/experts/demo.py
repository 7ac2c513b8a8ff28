"""The demo expert pool: an expertise profile for the demo facilitator and two demo experts,
loaded idempotently once the demo log-ins exist.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from proeftuin.enums import ExpertArea, Language, Role
from proeftuin.extensions import db
from proeftuin.models import ExpertProfile, User
from proeftuin.services.experts.expertise import own_profile

logger = logging.getLogger(__name__)

DEMO_EXPERTS = [
    {
        "email": None,  # the demo facilitator log-in (seeding.DEMO_LOGINS)
        "areas": [ExpertArea.PROCUREMENT_LAW, ExpertArea.PROCEDURES],
        "languages": [Language.NL, Language.FR, Language.EN],
        "language": Language.NL,
        "expertise": (
            "Overheidsopdrachtenrecht en innovatieve procedures: marktconsultatie, innovatiepartnerschap, "
            "concurrentiedialoog, mededingingsprocedure met onderhandeling en pre-commerciële aankoop (PCP). "
            "Drempels, raming van de waarde, gunningscriteria en de opbouw van het bestek. "
            "Begeleiding van lokale besturen bij hun eerste innovatieve aankoop en het PIO-programma."
        ),
    },
    {
        "email": "expert.privacy@demo.proeftuin.be",
        "name": "Demo expert data en privacy",
        "areas": [ExpertArea.DATA_AND_PRIVACY, ExpertArea.TECHNICAL],
        "languages": [Language.NL, Language.EN],
        "language": Language.EN,
        "expertise": (
            "Data protection and privacy in public pilots: GDPR, data protection impact assessments, "
            "processing agreements with suppliers, camera and sensor data in public space, retention "
            "periods, anonymisation of personal data and open data publication."
        ),
    },
    {
        "email": "expert.ip@demo.proeftuin.be",
        "name": "Demo expert IE en contracten",
        "areas": [ExpertArea.IP_AND_CONTRACTS, ExpertArea.STATE_AID_AND_FUNDING],
        "languages": [Language.FR, Language.NL, Language.EN],
        "language": Language.FR,
        "expertise": (
            "Propriété intellectuelle et contrats: droits sur les résultats d'un projet pilote, licences "
            "d'utilisation pour la commune, accords de confidentialité (NDA), clauses de responsabilité, "
            "conventions de pilote avec des start-ups, aides d'État et cofinancement européen."
        ),
    },
]


def load_demo_experts() -> int:
    """Give the demo facilitator an expertise profile and add two demo experts (idempotent).

    Does nothing until the demo log-ins exist. Returns the number of profiles created; the vectors
    follow at the next `flask index rebuild`.
    """
    from proeftuin.services.accounts import staff_organisation
    from proeftuin.services.passwords import hash_password
    from proeftuin.services.seeding import DEMO_LOGINS, DEMO_PASSWORD

    facilitator_email = next(d.email for d in DEMO_LOGINS if d.role == "facilitator")
    if db.session.scalar(sa.select(User).where(User.email == facilitator_email)) is None:
        return 0
    created = 0
    password_hash = None
    for item in DEMO_EXPERTS:
        email = item["email"] or facilitator_email
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=email, name=item["name"], role=Role.FACILITATOR, organisation=staff_organisation(),
                        password_hash=password_hash, is_demo=True)
            db.session.add(user)
            db.session.flush()
        if own_profile(user) is not None:
            continue
        db.session.add(ExpertProfile(
            user_id=user.id, areas=[a.value for a in item["areas"]], expertise=item["expertise"],
            languages=[lang.value for lang in item["languages"]], language=item["language"], available=True,
        ))
        created += 1
    db.session.commit()
    logger.info("demo experts loaded: %d profiles", created)
    return created
