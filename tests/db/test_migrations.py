"""Migrations and models agree, on both backends, and the engine settings hold."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from datacoop.db.base import Base, import_all_models


def test_migrated_schema_matches_the_models(engine):
    import_all_models()
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    from datacoop.db.engine import create_db_engine

    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_alembic_version_is_head(engine):
    from alembic.script import ScriptDirectory

    from datacoop.db.engine import MIGRATIONS_DIR, alembic_config

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    assert MIGRATIONS_DIR.exists()
