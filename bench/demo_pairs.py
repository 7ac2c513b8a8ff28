"""Cross-lingual pairs in the demo data: where the platform ranks the intended start-ups.

`python -m bench.demo_pairs` loads the demo into a temporary SQLite database, builds the index with
the configured engine, and for each Dutch demo challenge written to be answered by an English or
French profile reports the rank of that profile among the suggestions. The demo texts were written
for this project, so this is a smoke test of the whole pipeline, not a quality benchmark (that is
`bench.quality` on the CORDIS data). Prints one JSON object.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

PAIRS = {
    "antw-schoolstraten": ["hushlane", "carrefour-serein"],
    "mech-schoolomgeving-data": ["carrefour-serein", "hushlane"],
    "gent-hittestress-pleinen": ["thermaloom", "fraicheur-nomade"],
    "kortrijk-hitte-eilanden": ["thermaloom"],
    "aalst-koele-marktpleinen": ["fraicheur-nomade", "thermaloom"],
    "hasselt-vereenzaming-ouderen": ["kindred-doorstep", "causette-seniors"],
    "sintniklaas-klare-taal-formulieren": ["plainspoken-lab", "guichetto"],
    "pajottegem-digitaal-loket": ["plainspoken-lab", "guichetto"],
    "brugge-zwerfvuil-reien": ["scrapscope"],
    "oostende-drukte-zeedijk": ["throngwise"],
    "turnhout-renovatiebegeleiding": ["renopas", "stocktwin"],
    "bree-deelmobiliteit-kernen": ["roulecampagne", "loopvan"],
    "merelbeke-melle-grachten": ["culvertly"],
    "leuven-nachtlawaai": ["nocturna-sonore"],
    "mechelen-schooluitval": ["boussole-scolaire"],
    "aalst-sorteren-appartementen": ["trimmeuble"],
    "sintniklaas-mantelzorgers": ["tendloop"],
    "bree-chronische-zorg": ["pulsadom"],
}


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    instance = tempfile.mkdtemp(prefix="proeftuin-bench-")
    os.environ["PROEFTUIN_INSTANCE_PATH"] = instance
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import flask_migrate
    import sqlalchemy as sa

    from proeftuin import create_app
    from proeftuin.extensions import db
    from proeftuin.models import Challenge
    from proeftuin.services import matching, seeding
    from proeftuin.services import suggestions as suggestion_service

    app = create_app()
    data = seeding.DATA_DIR
    challenges = {c["key"]: c for c in json.loads((data / "demo_challenges.json").read_text())}
    startups = {s["key"]: s["name"] for s in json.loads((data / "demo_startups.json").read_text())}
    ranks: dict[str, dict[str, int | None]] = {}
    with app.app_context():
        flask_migrate.upgrade()
        seeding.load_municipalities()
        seeding.load_demo()
        started = time.perf_counter()
        report = matching.rebuild()
        encode_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for key, expected in PAIRS.items():
            challenge = db.session.scalar(sa.select(Challenge).where(Challenge.title == challenges[key]["title"]))
            names = [s.target.organisation.name for s in suggestion_service.startups_for_challenge(challenge, k=10)]
            ranks[key] = {s: (names.index(startups[s]) + 1 if startups[s] in names else None) for s in expected}
        suggest_seconds = time.perf_counter() - started
    flat = [r for pair in ranks.values() for r in pair.values()]
    print(json.dumps({
        "engine": report.engine_id,
        "objects_encoded": report.encoded,
        "encode_seconds": round(encode_seconds, 2),
        "pairs": len(flat),
        "in_top_3": sum(1 for r in flat if r is not None and r <= 3),
        "in_top_10": sum(1 for r in flat if r is not None),
        "mean_rank_found": round(sum(r for r in flat if r) / max(1, sum(1 for r in flat if r)), 2),
        "suggestion_ms_per_challenge": round(1000 * suggest_seconds / len(PAIRS), 1),
        "ranks": ranks,
    }))


if __name__ == "__main__":
    sys.exit(main())
