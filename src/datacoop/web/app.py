"""The FastAPI application: ``create_app(settings)`` wires everything in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from datacoop import __version__
from datacoop.clock import Clock, SystemClock
from datacoop.db.engine import create_db_engine, upgrade_to_head
from datacoop.log import pages as log_pages
from datacoop.log.routes import router as log_router
from datacoop.log.signer import Signer, file_signer
from datacoop.members import pages as member_pages
from datacoop.members import steward_pages
from datacoop.members.passwords import make_hasher
from datacoop.members.routes import router as members_router
from datacoop.pay import pages as pay_pages
from datacoop.pay.routes import router as pay_router
from datacoop.payouts.routes import router as payouts_router
from datacoop.projects import pages as project_pages
from datacoop.projects import submissions_pages
from datacoop.projects.routes import router as projects_router
from datacoop.quality.routes import router as quality_router
from datacoop.settings import Settings
from datacoop.valuation.routes import router as valuation_router
from datacoop.web import errors, pages
from datacoop.web.deps import AppContext
from datacoop.web.limits import BodyLimits
from datacoop.work import pages as work_pages
from datacoop.work.routes import router as work_router

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    signer: Signer | None = None,
    migrate: bool = True,
) -> FastAPI:
    """Build the app. Migrates the database to head unless ``migrate`` is False."""
    settings = settings or Settings()
    engine = engine or create_db_engine(settings.resolved_database_url())
    if migrate:
        upgrade_to_head(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.ctx.db_executor.shutdown(wait=True)

    app = FastAPI(
        lifespan=lifespan,
        title="datacoop",
        version=__version__,
        description="Human data work, made visible, fairly paid and co-owned.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.ctx = AppContext(
        settings=settings,
        engine=engine,
        clock=clock or SystemClock(),
        hasher=make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        signer=signer or file_signer(settings.resolved_signing_key_path()),
        db_executor=ThreadPoolExecutor(
            max_workers=1 if engine.dialect.name == "sqlite" else 16, thread_name_prefix="db"
        ),
    )
    errors.install(app)
    api = APIRouter(prefix="/api/v1")

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    api.include_router(members_router)
    api.include_router(projects_router)
    api.include_router(work_router)
    api.include_router(log_router)
    api.include_router(quality_router)
    api.include_router(valuation_router)
    api.include_router(pay_router)
    api.include_router(payouts_router)
    app.include_router(api)
    app.include_router(project_pages.router)
    app.include_router(submissions_pages.router)
    app.include_router(log_pages.router)
    app.include_router(steward_pages.router)
    app.include_router(pages.router)
    app.include_router(member_pages.router)
    app.include_router(work_pages.router)
    app.include_router(pay_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    app.add_middleware(
        BodyLimits, max_body=settings.max_body_bytes, max_import=settings.max_import_bytes
    )
    return app
