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
