"""Use cases of data valuation: value a project's answers, store the run and each
contributor's value, re-run it, and show each person what they may see.

The data points are answers. Answer ``a`` on item ``i`` by member ``m`` is the training point
``(x_i, y_a)``: the item's features (``features.py``) and the member's label; its owner is
``m``. The validation set is the gold items with their gold labels, or a seeded random
split of the items labelled by an aggregation run; answers on validation items are not
valued. ``knn`` sums answer-level KNN-Shapley values per member; ``knn-contributors`` gives
exact contributor-level Shapley values for the 1-nearest-neighbour utility.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from datacoop.algorithms import ledger
from datacoop.clock import Clock
from datacoop.errors import InvalidData, NotFound, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.log.models import LogEntry
from datacoop.members.models import Contributor, Member
from datacoop.projects.models import Item, Project
from datacoop.projects.rules import require_manage
from datacoop.quality.models import AggregatedLabel, AggregationRun
from datacoop.valuation import features as feats
from datacoop.valuation import rules
from datacoop.valuation.embeddings import TextEmbedder
from datacoop.valuation.models import ContributorValue, ValuationRun
from datacoop.work.models import Submission


@dataclass(frozen=True)
class Plan:
    """Everything that determines a run's values."""

    request: rules.Request
    features: str
    tree_size: int
    aggregation_run_id: int | None


@dataclass
class Outcome:
    values: pd.Series  # member id -> value, sorted by member id
    n_points: dict[int, int]
    features: str  # the resolved feature spec
    points: int
    items: int
    validation_items: int
    excluded_answers: int


def run_valuation(
    session: Session,
    clock: Clock,
    member: Member,
    project: Project,
    *,
    method: str = "knn",
    k: int | None = None,
    validation: str = "gold",
    holdout: float | None = None,
    seed: int = 0,
    features: str = "auto",
    aggregation_run_id: int | None = None,
    media_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
) -> ValuationRun:
    """Value the project's answers so far and store the run, each member's value and a
    ``valuation:computed`` log entry committing to them. Nothing is stored on bad input."""
    require_manage(member, project)
    rules.require_valuable(project.task_type)
    request = rules.check_request(
        method=method, k=k, validation=validation, holdout=holdout, seed=seed
    )
    spec = feats.parse_spec(features)
    if request.validation == "holdout":
        aggregation_run_id = _aggregation_run(session, project, aggregation_run_id).id
    elif aggregation_run_id is not None:
        raise ValidationFailed.field("aggregation_run", "is used with validation holdout only")
    plan = Plan(request, str(spec), log.size(session), aggregation_run_id)
    outcome = evaluate(session, project, plan, media_dir=media_dir, embedder=embedder)
    params: dict[str, Any] = {"k": request.k, "features": outcome.features}
    if request.holdout is not None:
        params["holdout"] = request.holdout
    run = ValuationRun(
        project_id=project.id,
        method=request.method,
        params=params,
        seed=request.seed,
        validation=request.validation,
        tree_size=plan.tree_size,
        aggregation_run_id=aggregation_run_id,
        points=outcome.points,
        items=outcome.items,
        contributors=len(outcome.values),
        validation_items=outcome.validation_items,
        excluded_answers=outcome.excluded_answers,
        # Locks the log state: taken only now that the (slow) valuation is done.
        log_index=log.next_index(session),
        created_by=member.id,
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()
    session.execute(
        insert(ContributorValue),
        [
            {
                "run_id": run.id,
                "member_id": int(m),
                "value": float(v),
                "n_points": outcome.n_points[int(m)],
            }
            for m, v in outcome.values.items()
        ],
    )
    index = log.append(
        session,
        clock,
        EntryKind.valuation_computed,
        project=project.id,
        run=run.id,
        method=run.method,
        input_tree_size=run.tree_size,
        contributors=run.contributors,
        run_sha256=run_digest(session, run),
    )
    assert index == run.log_index
    session.flush()
    return run


def _aggregation_run(session: Session, project: Project, run_id: int | None) -> AggregationRun:
    if run_id is None:
        latest = session.scalar(
            select(AggregationRun)
            .where(AggregationRun.project_id == project.id)
            .order_by(AggregationRun.id.desc())
            .limit(1)
        )
        if latest is None:
            raise ValidationFailed.field(
                "validation",
                "holdout labels come from an aggregation run and the project has none yet; "
                "aggregate first (datacoop aggregate) or use validation gold",
            )
        return latest
    run = session.get(AggregationRun, run_id)
    if run is None or run.project_id != project.id:
        raise NotFound(f"no aggregation run with id {run_id} in project {project.id}")
    return run


def evaluate(
    session: Session,
    project: Project,
    plan: Plan,
    *,
    media_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
) -> Outcome:
    """Compute the values a plan determines (reads only; the same plan, the same values)."""
    answers = session.execute(
        select(Submission.member_id, Submission.item_id, Submission.answer)
        .where(Submission.project_id == project.id, Submission.log_index < plan.tree_size)
        .order_by(Submission.log_index)
    ).all()
    test = _validation_set(session, project, plan)
    held = set(test)
    train = [(int(m), int(i), _label(a)) for m, i, a in answers if i not in held]
    if not train:
        raise ValidationFailed.field("project", "has no answers outside the validation items")
    if len({y for _, _, y in train}) < 2:
        raise ValidationFailed.field(
            "project", "the answers hold fewer than 2 classes; there is nothing to tell apart"
        )
    wanted = {i for _, i, _ in train} | held
    items = [
        (int(i), d)
        for i, d in session.execute(
            select(Item.id, Item.data).where(Item.project_id == project.id).order_by(Item.id)
        )
        if i in wanted
    ]
    spec = feats.resolve(feats.parse_spec(plan.features), items)
    matrix = feats.item_features(items, spec, media_dir=media_dir, embedder=embedder)
    row = {item_id: n for n, (item_id, _) in enumerate(items)}
    owners = np.array([m for m, _, _ in train], dtype=np.int64)
    x_train = matrix[[row[i] for _, i, _ in train]]
    y_train = np.array([y for _, _, y in train], dtype=object)
    x_test = matrix[[row[i] for i in test]]
    y_test = np.array(list(test.values()), dtype=object)
    values = _values(plan.request, x_train, y_train, owners, x_test, y_test)
    return Outcome(
        values=values,
        n_points=dict(Counter(int(m) for m in owners)),
        features=str(spec),
        points=len(train),
        items=len({i for _, i, _ in train}),
        validation_items=len(test),
        excluded_answers=len(answers) - len(train),
    )


def _values(
    request: rules.Request,
    x_train: np.ndarray,
    y_train: np.ndarray,
    owners: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
) -> pd.Series:
    from datacoop.algorithms.valuation.contributors import (
        contributor_knn_shapley,
        contributor_values,
    )
    from datacoop.algorithms.valuation.knn import knn_shapley

    try:
        if request.method == "knn":
            point_values = knn_shapley(x_train, y_train, x_test, y_test, k=request.k)
            values = contributor_values(point_values, owners)
        else:
            values = contributor_knn_shapley(x_train, y_train, owners, x_test, y_test)
    except InvalidData as exc:
        raise ValidationFailed.field("data", str(exc)) from exc
    return values.sort_index()


def _validation_set(session: Session, project: Project, plan: Plan) -> dict[int, str]:
    """Validation item id -> label, by item id."""
    if plan.request.validation == "gold":
        gold = session.execute(
            select(Item.id, Item.gold)
            .where(
                Item.project_id == project.id,
                Item.is_gold.is_(True),
                Item.import_id.in_(_imports_logged(session, project, plan.tree_size)),
            )
            .order_by(Item.id)
        ).all()
        test = {int(i): _label(g) for i, g in gold if g is not None}
        if not test:
            raise ValidationFailed.field(
                "validation", "the project has no gold items; use validation holdout"
            )
        return test
    labels: dict[int, Any] = dict(
        session.execute(
            select(AggregatedLabel.item_id, AggregatedLabel.label)
            .where(AggregatedLabel.run_id == plan.aggregation_run_id)
            .order_by(AggregatedLabel.item_id)
        ).all()
    )
    ids = np.array(sorted(int(i) for i in labels), dtype=np.int64)
    if len(ids) < 2:
        raise ValidationFailed.field(
            "validation", "a holdout needs at least 2 items with an aggregated label"
        )
    assert plan.request.holdout is not None
    n = rules.holdout_size(len(ids), plan.request.holdout)
    held = np.sort(np.random.default_rng(plan.request.seed).permutation(ids)[:n])
    return {int(i): _label(labels[int(i)]) for i in held}


def _imports_logged(session: Session, project: Project, tree_size: int) -> list[int]:
    """The project's item imports logged below ``tree_size``: gold items imported after a run
    started are not part of its input."""
    payloads = session.scalars(
        select(LogEntry.payload).where(
            LogEntry.kind == EntryKind.items_imported.value, LogEntry.index < tree_size
        )
    )
    return sorted(int(p["import"]) for p in map(json.loads, payloads) if p["project"] == project.id)


def _label(value: Any) -> str:
    """One class per distinct JSON answer (``3`` and ``3.0`` are one class)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Stored runs
# --------------------------------------------------------------------------------------------


def run_digest(session: Session, run: ValuationRun) -> str:
    """SHA-256 of the canonical JSON of the run's inputs and values (docs/ledger.md,
    ``valuation:computed``); floats are written as their shortest round-trip ``repr``."""
    rows = session.execute(
        select(Contributor.contributor_id, ContributorValue.value, ContributorValue.n_points)
        .join(
            Contributor,
            (Contributor.member_id == ContributorValue.member_id)
            & (Contributor.project_id == run.project_id),
        )
        .where(ContributorValue.run_id == run.id)
        .order_by(Contributor.contributor_id)
    ).all()
    document = {
        "v": 1,
        "project": run.project_id,
        "run": run.id,
        "method": run.method,
        "params": _no_floats(run.params),
        "seed": run.seed,
        "validation": run.validation,
        "tree_size": run.tree_size,
        "aggregation_run": run.aggregation_run_id,
        "values": [[c, repr(float(v)), int(n)] for c, v, n in rows],
    }
    return hashlib.sha256(ledger.canonical_json(document)).hexdigest()


def _no_floats(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _no_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_floats(v) for v in value]
    return value


def plan_of(run: ValuationRun) -> Plan:
    request = rules.Request(
        method=run.method,
        k=int(run.params["k"]),
        validation=run.validation,
        holdout=run.params.get("holdout"),
        seed=run.seed,
    )
    return Plan(request, str(run.params["features"]), run.tree_size, run.aggregation_run_id)


def rerun(
    session: Session,
    run: ValuationRun,
    *,
    media_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
) -> dict[str, Any]:
    """Re-run from the recorded inputs; report whether every value is bit-for-bit the same
    (no contributor ids: the caller is the requester)."""
    project = session.get(Project, run.project_id)
    assert project is not None
    fresh = evaluate(session, project, plan_of(run), media_dir=media_dir, embedder=embedder)
    stored = stored_values(session, run)
    members = sorted(set(stored) | {int(m) for m in fresh.values.index})
    diffs = [abs(stored.get(m, np.nan) - float(fresh.values.get(m, np.nan))) for m in members]
    differing = sum(1 for d in diffs if d != 0.0)  # NaN (missing on one side) differs too
    return {
        "run_id": run.id,
        "identical": differing == 0 and fresh.points == run.points,
        "points": fresh.points,
        "differing_contributors": differing,
        "max_abs_difference": max((d for d in diffs if d == d), default=0.0),
    }


def get_run(session: Session, member: Member, run_id: int) -> ValuationRun:
    """A run, for those who may see its distribution."""
    run = session.get(ValuationRun, run_id)
    if run is None:
        raise NotFound(f"no valuation run with id {run_id}")
    project = session.get(Project, run.project_id)
    assert project is not None
    rules.require_see_distribution(member, project)
    return run


def list_runs(session: Session, project: Project) -> list[ValuationRun]:
    return list(
        session.scalars(
            select(ValuationRun)
            .where(ValuationRun.project_id == project.id)
            .order_by(ValuationRun.id)
        )
    )


def stored_values(session: Session, run: ValuationRun) -> dict[int, float]:
    """Member id -> value. Internal: never rendered with member ids to anyone but the
    member themself."""
    return {
        int(m): float(v)
        for m, v in session.execute(
            select(ContributorValue.member_id, ContributorValue.value).where(
                ContributorValue.run_id == run.id
            )
        )
    }


def distribution(session: Session, run: ValuationRun) -> dict[str, Any]:
    return rules.distribution(sorted(stored_values(session, run).values()))


def my_value(
    session: Session, member: Member, project: Project, *, run_id: int | None = None
) -> dict[str, Any]:
    """The member's own value in the newest (or the given) run, with their rank and
    percentile; ``value`` is None when none of their answers was valued."""
    query = select(ValuationRun).where(ValuationRun.project_id == project.id)
    if run_id is not None:
        query = query.where(ValuationRun.id == run_id)
    run = session.scalar(query.order_by(ValuationRun.id.desc()).limit(1))
    if run is None:
        which = f"run {run_id}" if run_id is not None else "valuation run"
        raise NotFound(f"no {which} in project {project.id}")
    values = stored_values(session, run)
    row = session.get(ContributorValue, (run.id, member.id))
    contributor = session.scalar(
        select(Contributor.contributor_id).where(
            Contributor.project_id == project.id, Contributor.member_id == member.id
        )
    )
    out: dict[str, Any] = {
        "run_id": run.id,
        "project_id": project.id,
        "method": run.method,
        "created_at": run.created_at,
        "contributor_id": contributor,
        "value": None,
        "n_points": 0,
        "rank": None,
        "percentile": None,
        "contributors": len(values),
    }
    if row is not None:
        out.update(value=row.value, n_points=row.n_points)
        out.update(rules.standing(list(values.values()), row.value))
    return out
