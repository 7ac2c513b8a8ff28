"""The Alembic migrations build exactly the schema the models describe (no pending diff)."""
from __future__ import annotations

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from proeftuin.extensions import db
from tests.conftest import USING_POSTGRES


def test_upgrade_gives_the_models_schema(make_app, tmp_path):
    overrides = {} if USING_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"}
    app = make_app(**overrides)
    with app.app_context():
        db.drop_all()
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            assert diff == [], diff
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert version is not None
        flask_migrate.downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]


def test_upgrade_keeps_existing_experiment_parties_as_accepted(make_app, tmp_path):
    """0005: the parties of an experiment opened before invitations stay parties (accepted)."""
    overrides = {} if USING_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}"}
    app = make_app(**overrides)
    now = "2026-01-05 10:00:00+00:00"
    with app.app_context():
        db.drop_all()
        flask_migrate.upgrade(revision="0003")
        with db.engine.begin() as conn:
            for org_id, kind in ((1, "municipality"), (2, "startup")):
                conn.execute(sa.text(
                    "INSERT INTO organisation (id, kind, name, slug, region, is_demo, created_at) "
                    "VALUES (:id, :kind, :name, :slug, 'antwerpen', false, :now)"),
                    {"id": org_id, "kind": kind, "name": f"Org {org_id}", "slug": f"org-{org_id}", "now": now})
            conn.execute(sa.text(
                "INSERT INTO challenge (id, organisation_id, title, summary, problem, desired_outcome, language, "
                "procurement_route, status, is_demo, created_at, updated_at) VALUES (1, 1, 't', 's', 'p', 'o', "
                "'nl', 'undecided', 'published', false, :now, :now)"), {"now": now})
            conn.execute(sa.text(
                "INSERT INTO experiment (id, title, challenge_id, hypothesis, status, created_at, updated_at) "
                "VALUES (1, 'Pilot', 1, 'h', 'running', :now, :now)"), {"now": now})
            conn.execute(sa.text("INSERT INTO experiment_municipality (experiment_id, organisation_id) VALUES (1, 1)"))
            conn.execute(sa.text("INSERT INTO experiment_startup (experiment_id, organisation_id) VALUES (1, 2)"))
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            for table in ("experiment_municipality", "experiment_startup"):
                rows = conn.execute(sa.text(f"SELECT state, invited_by_id FROM {table}")).all()
                assert [tuple(r) for r in rows] == [("accepted", None)], table
            # the database itself refuses a state outside the vocabulary
            try:
                with conn.begin_nested():
                    conn.execute(sa.text("UPDATE experiment_startup SET state = 'maybe'"))
            except sa.exc.IntegrityError:
                pass
            else:
                raise AssertionError("no CHECK constraint on experiment_startup.state")
            # an invitation does not survive a downgrade, where every row means a party
            conn.execute(sa.text("INSERT INTO organisation (id, kind, name, slug, region, is_demo, created_at) "
                                 "VALUES (3, 'startup', 'Org 3', 'org-3', 'antwerpen', false, :now)"), {"now": now})
            conn.execute(sa.text("INSERT INTO experiment_startup (experiment_id, organisation_id, state) "
                                 "VALUES (1, 3, 'invited')"))
            conn.commit()
        flask_migrate.downgrade(revision="0004")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT organisation_id FROM experiment_startup")).scalars().all()
            assert rows == [2]
            for table in ("experiment_startup", "experiment_municipality", "experiment", "challenge", "organisation"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
            conn.commit()
        flask_migrate.downgrade(revision="base")
