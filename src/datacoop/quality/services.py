"""Use cases of quality control: aggregation runs, worker skills, dynamic overlap."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from datacoop.members.models import Contributor
from datacoop.projects.models import Item, Project
from datacoop.quality.models import AggregatedLabel, AggregationRun, WorkerSkill
from datacoop.work.models import Submission

DEFAULT_SKILL = 0.7  # a member's assumed accuracy before any aggregation run has estimated it


def update_wanted(session: Session, project: Project, item_id: int) -> int:
    """Dynamic overlap: after a new answer, decide how many answers this item should get.

    The item is closed (``wanted`` = answers so far) once it has the project's minimum overlap
    and its most probable label has posterior >= ``confidence`` under a one-coin model of the
    workers (skills from the newest aggregation run, else ``DEFAULT_SKILL``); otherwise it
    asks for one more answer, up to ``max_overlap``.
    """
    from datacoop.algorithms.overlap import posteriors

    settings: dict[str, Any] = project.dynamic_overlap or {}
    rows = session.execute(
        select(Submission.member_id, Submission.answer).where(Submission.item_id == item_id)
    ).all()
    item = session.get(Item, item_id)
    assert item is not None
    count = len(rows)
    skills = dict(
        session.execute(
            select(WorkerSkill.member_id, WorkerSkill.skill).where(
                WorkerSkill.project_id == project.id,
                WorkerSkill.member_id.in_([r[0] for r in rows]),
            )
        ).all()
    )
    frame = pd.DataFrame(
        {
            "task": [item_id] * count,
            "worker": [r[0] for r in rows],
            "label": [_key(r[1]) for r in rows],
        }
    )
    classes = [_key(c) for c in _classes(project)]
    skill_series = pd.Series({r[0]: skills.get(r[0], DEFAULT_SKILL) for r in rows}, dtype=float)
    confident = False
    if count:
        post = posteriors(frame, skills=skill_series, classes=classes)
        confident = float(post.to_numpy().max()) >= float(settings.get("confidence", 0.95))
    max_overlap = int(settings.get("max_overlap", project.overlap))
    if confident and count >= project.overlap:
        wanted = count
    else:
        wanted = min(max_overlap, max(project.overlap, count + 1))
    item.wanted = max(wanted, count)
    return item.wanted


def _key(answer: Any) -> str:
    return str(answer)


def _classes(project: Project) -> list[Any]:
    config = project.config
    if project.task_type == "rating":
        return list(range(int(config["min"]), int(config["max"]) + 1))
    return list(config["labels"])


def contributor_ids(session: Session, project_id: int) -> dict[int, str]:
    return dict(
        session.execute(
            select(Contributor.member_id, Contributor.contributor_id).where(
                Contributor.project_id == project_id
            )
        ).all()
    )


# --------------------------------------------------------------------------------------------
# Aggregation runs
# --------------------------------------------------------------------------------------------


def answers_frame(session: Session, project: Project, tree_size: int) -> pd.DataFrame:
    """Every answer logged below ``tree_size``, in log order: ``task`` (item id), ``worker``
    (per-project contributor id), ``label``. The same tree size gives the same frame."""
    from datacoop.members.models import Contributor as C

    rows = session.execute(
        select(Submission.item_id, C.contributor_id, Submission.answer)
        .join(C, (C.member_id == Submission.member_id) & (C.project_id == Submission.project_id))
        .where(Submission.project_id == project.id, Submission.log_index < tree_size)
        .order_by(Submission.log_index)
    ).all()
    return pd.DataFrame(
        {
            "task": [r[0] for r in rows],
            "worker": [r[1] for r in rows],
            "label": [r[2] for r in rows],
        }
    )


def _fit(frame: pd.DataFrame, method: str, kwargs: dict[str, Any]) -> Any:
    from datacoop.algorithms import aggregation

    model = aggregation.get(method)(**kwargs)
    model.fit(frame)
    return model


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def run_aggregation(
    session: Session,
    clock: Any,
    member: Any,
    project: Project,
    *,
    method: str = "ds",
    params: object = None,
    seed: int = 0,
) -> AggregationRun:
    """Aggregate the project's answers so far into one label per item, and store the run with
    everything needed to re-run it to the same result (method, parameters, seed, tree size)."""
    from datacoop.algorithms import aggregation
    from datacoop.errors import InvalidData, ValidationFailed
    from datacoop.log import services as log
    from datacoop.projects.rules import require_manage
    from datacoop.quality import rules

    require_manage(member, project)
    rules.require_aggregatable(project.task_type)
    if method not in aggregation.METHODS:
        raise ValidationFailed.field(
            "method", f"unknown method {method!r}; choose from: {', '.join(aggregation.METHODS)}"
        )
    kwargs = rules.check_params(aggregation.get(method), params, seed)
    tree_size = log.size(session)
    frame = answers_frame(session, project, tree_size)
    if frame.empty:
        raise ValidationFailed.field("project", "has no answers to aggregate yet")
    try:
        model = _fit(frame, method, kwargs)
    except InvalidData as exc:
        raise ValidationFailed.field("method", str(exc)) from exc
    run = AggregationRun(
        project_id=project.id,
        method=method,
        params={k: v for k, v in kwargs.items() if k != "seed"},
        seed=seed,
        tree_size=tree_size,
        answers=len(frame),
        items=int(frame["task"].nunique()),
        summary={},
        created_by=member.id,
        created_at=clock.now(),
    )
    session.add(run)
    session.flush()
    labels = model.labels_
    probas = getattr(model, "probas_", None)
    confidence = probas.max(axis=1) if probas is not None else None
    session.execute(
        insert(AggregatedLabel),
        [
            {
                "run_id": run.id,
                "item_id": int(task),
                "label": _plain(label),
                "confidence": None if confidence is None else float(confidence[task]),
            }
            for task, label in labels.items()
        ],
    )
    run.summary = _summary(session, project, frame, labels)
    if method in rules.ACCURACY_SKILLS and getattr(model, "skills_", None) is not None:
        _store_skills(session, project, run, model.skills_)
    session.flush()
    return run


def _summary(
    session: Session, project: Project, frame: pd.DataFrame, labels: pd.Series
) -> dict[str, Any]:
    from datacoop.algorithms.agreement import krippendorff_alpha
    from datacoop.errors import InvalidData

    level = "ordinal" if project.task_type == "rating" else "nominal"
    try:
        alpha: float | None = float(krippendorff_alpha(frame, level=level))
    except InvalidData:
        alpha = None  # undefined: too few overlapping answers, or a single class
    gold = _gold(session, project)
    scored = [t for t in gold if t in labels.index]
    correct = sum(1 for t in scored if _plain(labels[t]) == gold[t])
    return {
        "krippendorff_alpha": alpha,
        "alpha_level": level,
        "gold_items_scored": len(scored),
        "gold_accuracy": (correct / len(scored)) if scored else None,
    }


def _gold(session: Session, project: Project) -> dict[int, Any]:
    return dict(
        session.execute(
            select(Item.id, Item.gold).where(Item.project_id == project.id, Item.is_gold.is_(True))
        ).all()
    )


def _store_skills(
    session: Session, project: Project, run: AggregationRun, skills: pd.Series
) -> None:
    members = {c: m for m, c in contributor_ids(session, project.id).items()}
    session.execute(delete(WorkerSkill).where(WorkerSkill.project_id == project.id))
    rows = [
        {
            "project_id": project.id,
            "member_id": members[c],
            "skill": float(min(max(s, 0.0), 1.0)),
            "run_id": run.id,
        }
        for c, s in skills.items()
        if c in members and s == s  # skip NaN
    ]
    if rows:
        session.execute(insert(WorkerSkill), rows)


def rerun(session: Session, run: AggregationRun) -> dict[str, Any]:
    """Re-run a stored run from its recorded inputs; report whether every label is the same."""
    project = session.get(Project, run.project_id)
    assert project is not None
    frame = answers_frame(session, project, run.tree_size)
    kwargs = dict(run.params)
    import inspect

    from datacoop.algorithms import aggregation

    if "seed" in inspect.signature(aggregation.get(run.method)).parameters:
        kwargs["seed"] = run.seed
    labels = _fit(frame, run.method, kwargs).labels_
    stored: dict[int, Any] = dict(
        session.execute(
            select(AggregatedLabel.item_id, AggregatedLabel.label).where(
                AggregatedLabel.run_id == run.id
            )
        ).all()
    )
    differing = [int(t) for t, lab in labels.items() if stored.get(int(t)) != _plain(lab)]
    missing = set(stored) - {int(t) for t in labels.index}
    return {
        "run_id": run.id,
        "identical": not differing and not missing and len(frame) == run.answers,
        "answers": len(frame),
        "differing_items": sorted(differing + list(missing))[:100],
    }


def get_run(session: Session, member: Any, run_id: int) -> tuple[AggregationRun, Project]:
    from datacoop.errors import NotFound
    from datacoop.projects.rules import require_manage

    run = session.get(AggregationRun, run_id)
    if run is None:
        raise NotFound(f"no aggregation run with id {run_id}")
    project = session.get(Project, run.project_id)
    assert project is not None
    require_manage(member, project)
    return run, project


def list_runs(session: Session, project: Project) -> list[AggregationRun]:
    return list(
        session.scalars(
            select(AggregationRun)
            .where(AggregationRun.project_id == project.id)
            .order_by(AggregationRun.id)
        )
    )


def latest_run(session: Session, project: Project) -> AggregationRun | None:
    return session.scalar(
        select(AggregationRun)
        .where(AggregationRun.project_id == project.id)
        .order_by(AggregationRun.id.desc())
        .limit(1)
    )


def run_labels(
    session: Session, run: AggregationRun, *, after: int = 0, limit: int = 500
) -> list[AggregatedLabel]:
    return list(
        session.scalars(
            select(AggregatedLabel)
            .where(AggregatedLabel.run_id == run.id, AggregatedLabel.item_id > after)
            .order_by(AggregatedLabel.item_id)
            .limit(limit)
        )
    )


def labels_by_item(session: Session, run_id: int) -> dict[int, Any]:
    return dict(
        session.execute(
            select(AggregatedLabel.item_id, AggregatedLabel.label).where(
                AggregatedLabel.run_id == run_id
            )
        ).all()
    )


# --------------------------------------------------------------------------------------------
# Quality reports
# --------------------------------------------------------------------------------------------


def contributor_quality(
    session: Session, project: Project, *, member_id: int | None = None
) -> list[dict[str, Any]]:
    """Per contributor: answers, accuracy on gold items (Wilson 95% interval), and agreement
    with the newest aggregation run's labels. ``member_id`` limits it to one member."""
    from datacoop.algorithms.quality import agreement_with_aggregate, gold_accuracy

    frame = answers_frame(session, project, tree_size=2**62)
    ids = contributor_ids(session, project.id)
    if member_id is not None:
        mine = ids.get(member_id)
        frame = frame[frame["worker"] == mine]
    if frame.empty:
        return []
    out: dict[str, dict[str, Any]] = {
        str(w): {"contributor_id": str(w), "answers": int(n)}
        for w, n in frame["worker"].value_counts().items()
    }
    gold = {t: g for t, g in _gold(session, project).items() if g is not None}
    gold_rows = frame[frame["task"].isin(list(gold))]
    if not gold_rows.empty:
        acc = gold_accuracy(gold_rows, pd.Series(gold))
        for w, row in acc.iterrows():
            out[str(w)]["gold"] = {
                "n": int(row["n_gold"]),
                "correct": int(row["correct"]),
                "accuracy": float(row["accuracy"]),
                "low": float(row["low"]),
                "high": float(row["high"]),
            }
    run = latest_run(session, project)
    if run is not None:
        labels = pd.Series(labels_by_item(session, run.id))
        scored = frame[frame["task"].isin(list(labels.index))]
        if not scored.empty:
            agree = agreement_with_aggregate(scored, labels)
            for w, row in agree.iterrows():
                out[str(w)]["agreement"] = {
                    "run_id": run.id,
                    "n": int(row["n"]),
                    "rate": float(row["rate"]),
                    "low": float(row["low"]),
                    "high": float(row["high"]),
                }
    return sorted(out.values(), key=lambda r: r["contributor_id"])
