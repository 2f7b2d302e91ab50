"""Shared fixtures. Every database test runs twice: on SQLite and on a real PostgreSQL.

Each test gets a fresh database cloned from a migrated template (a file copy for SQLite,
``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), so tests that commit, race and re-read are
as isolated as tests that do not.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).parent / "support"))

from api_helpers import Api  # noqa: E402  (needs the path above)
from pgcluster import Cluster  # noqa: E402

from datacoop.clock import FixedClock  # noqa: E402
from datacoop.db.engine import create_db_engine, upgrade_to_head  # noqa: E402
from datacoop.settings import Settings  # noqa: E402

BACKENDS = [
    b for b in os.environ.get("DATACOOP_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    cluster.start()
    try:
        admin = create_db_engine(cluster.url(), isolation_level="AUTOCOMMIT", poolclass=None)
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE datacoop_template"))
        admin.dispose()
        template = create_db_engine(cluster.url("datacoop_template"))
        upgrade_to_head(template)
        template.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "datacoop.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = create_db_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE datacoop_template"))
    yield cluster.url(name)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_db_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FixedClock) -> Any:
    from datacoop.log.signer import memory_signer
    from datacoop.web.app import create_app

    return create_app(settings, clock=clock, engine=engine, signer=memory_signer(), migrate=False)


@pytest.fixture
def small_client(
    client: Any, settings: Settings, engine: Engine, clock: FixedClock
) -> Iterator[Any]:
    """The app with 1 KiB JSON bodies and 2 KiB imports, over the same database and log key
    as ``client``."""
    from fastapi.testclient import TestClient

    from datacoop.web.app import create_app

    app = create_app(
        settings.model_copy(update={"max_body_bytes": 1024, "max_import_bytes": 2048}),
        clock=clock,
        engine=engine,
        signer=client.app.state.ctx.signer,
        migrate=False,
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)
