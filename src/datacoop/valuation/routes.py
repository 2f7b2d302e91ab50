"""JSON API of data valuation: runs for the requester, one's own value for each member."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from datacoop.projects import services as projects
from datacoop.valuation import services
from datacoop.valuation.models import ValuationRun
from datacoop.valuation.schemas import MyValueOut, RerunOut, RunOut, ValueIn
from datacoop.web.deps import DB, Ctx, CurrentMember

router = APIRouter(tags=["valuation"])


def run_out(db: Session, r: ValuationRun) -> RunOut:
    return RunOut.model_validate(
        {
            **{c: getattr(r, c) for c in RunOut.model_fields if c != "distribution"},
            "distribution": services.distribution(db, r),
        }
    )


@router.post("/projects/{project_id}/valuations", status_code=201, response_model=RunOut)
def value(project_id: int, body: ValueIn, member: CurrentMember, ctx: Ctx, db: DB) -> RunOut:
    """Value the answers so far; store the run and each contributor's value (the requester)."""
    project = projects.get_project(db, project_id)
    run = services.run_valuation(
        db,
        ctx.clock,
        member,
        project,
        method=body.method,
        k=body.k,
        validation=body.validation,
        holdout=body.holdout,
        seed=body.seed,
        features=body.features,
        aggregation_run_id=body.aggregation_run,
        media_dir=ctx.settings.media_dir,
    )
    return run_out(db, run)


@router.get("/projects/{project_id}/valuations", response_model=list[RunOut])
def list_runs(project_id: int, member: CurrentMember, db: DB) -> list[RunOut]:
    project = projects.get_managed_project(db, member, project_id)
    return [run_out(db, r) for r in services.list_runs(db, project)]


@router.get("/projects/{project_id}/valuations/me", response_model=MyValueOut)
def my_value(
    project_id: int, member: CurrentMember, db: DB, run: int | None = Query(None, ge=1)
) -> MyValueOut:
    """Your own value in the newest (or the given) run, with your rank and percentile."""
    project = projects.get_project(db, project_id)
    return MyValueOut(**services.my_value(db, member, project, run_id=run))


@router.get("/valuations/{run_id}", response_model=RunOut)
def get_run(run_id: int, member: CurrentMember, db: DB) -> RunOut:
    """A run and the distribution of its values (never who got which)."""
    return run_out(db, services.get_run(db, member, run_id))


@router.post("/valuations/{run_id}/rerun", response_model=RerunOut)
def rerun(run_id: int, member: CurrentMember, ctx: Ctx, db: DB) -> RerunOut:
    """Re-run from the recorded inputs (method, parameters, seed, tree size) and compare."""
    run = services.get_run(db, member, run_id)
    return RerunOut(**services.rerun(db, run, media_dir=ctx.settings.media_dir))
