"""JSON API of quality control: aggregation runs and quality reports."""

from __future__ import annotations

from fastapi import APIRouter, Query

from datacoop.projects import services as projects
from datacoop.quality import services
from datacoop.quality.models import AggregationRun
from datacoop.quality.schemas import (
    AggregateIn,
    LabelOut,
    QualityOut,
    RerunOut,
    RunDetailOut,
    RunOut,
)
from datacoop.web.deps import DB, Ctx, CurrentMember

router = APIRouter(tags=["quality"])


def run_out(r: AggregationRun) -> RunOut:
    return RunOut(
        id=r.id,
        project_id=r.project_id,
        method=r.method,
        params=r.params,
        seed=r.seed,
        tree_size=r.tree_size,
        answers=r.answers,
        items=r.items,
        summary=r.summary,
        created_at=r.created_at,
    )


@router.post("/projects/{project_id}/aggregations", status_code=201, response_model=RunOut)
def aggregate(
    project_id: int, body: AggregateIn, member: CurrentMember, ctx: Ctx, db: DB
) -> RunOut:
    """Aggregate the answers so far into one label per item (the project's requester)."""
    project = projects.get_project(db, project_id)
    run = services.run_aggregation(
        db, ctx.clock, member, project, method=body.method, params=body.params, seed=body.seed
    )
    return run_out(run)


@router.get("/projects/{project_id}/aggregations", response_model=list[RunOut])
def list_runs(project_id: int, member: CurrentMember, db: DB) -> list[RunOut]:
    project = projects.get_managed_project(db, member, project_id)
    return [run_out(r) for r in services.list_runs(db, project)]


@router.get("/aggregations/{run_id}", response_model=RunDetailOut)
def get_run(
    run_id: int,
    member: CurrentMember,
    db: DB,
    after: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=5000),
) -> RunDetailOut:
    """A run and its labels, keyset-paginated by item id."""
    run, _ = services.get_run(db, member, run_id)
    labels = services.run_labels(db, run, after=after, limit=limit)
    return RunDetailOut(
        **run_out(run).model_dump(),
        labels=[
            LabelOut(item_id=x.item_id, label=x.label, confidence=x.confidence) for x in labels
        ],
        next_after=labels[-1].item_id if len(labels) == limit else None,
    )


@router.post("/aggregations/{run_id}/rerun", response_model=RerunOut)
def rerun(run_id: int, member: CurrentMember, db: DB) -> RerunOut:
    """Re-run from the recorded inputs (method, parameters, seed, tree size) and compare."""
    run, _ = services.get_run(db, member, run_id)
    return RerunOut(**services.rerun(db, run))


@router.get("/projects/{project_id}/quality", response_model=QualityOut)
def project_quality(project_id: int, member: CurrentMember, db: DB) -> QualityOut:
    """Agreement and per-contributor quality (gold accuracy, agreement with the aggregate)."""
    project = projects.get_managed_project(db, member, project_id)
    latest = services.latest_run(db, project)
    return QualityOut(
        project_id=project.id,
        latest_run=run_out(latest) if latest else None,
        contributors=services.contributor_quality(db, project),
    )


@router.get("/projects/{project_id}/quality/me", response_model=QualityOut)
def my_quality(project_id: int, member: CurrentMember, db: DB) -> QualityOut:
    """Your own quality figures in a project (members see only their own)."""
    project = projects.get_project(db, project_id)
    return QualityOut(
        project_id=project.id,
        latest_run=None,
        contributors=services.contributor_quality(db, project, member_id=member.id),
    )
