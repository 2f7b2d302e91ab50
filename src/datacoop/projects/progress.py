"""The requester's progress report: items done, answers per item, and agreement so far.

Read-only; every figure comes from one or two aggregate queries, so the page stays fast on
large projects. Agreement is the newest aggregation run's Krippendorff's alpha when there is
a run; otherwise, for small projects, it is computed on the spot from the answers so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datacoop.errors import InvalidData
from datacoop.projects.models import Item, Project
from datacoop.quality import rules as quality_rules
from datacoop.quality import services as quality

# Above this many answers, alpha is left to an aggregation run (a background-sized job).
LIVE_ALPHA_MAX_ANSWERS = 20_000


@dataclass(frozen=True)
class Agreement:
    """Krippendorff's alpha over the answers, and where it came from."""

    alpha: float | None  # None: undefined (too few overlapping answers, or one class)
    level: str
    source: str  # "run" (an aggregation run) or "live" (computed for this page)
    answers: int
    run_id: int | None = None
    method: str | None = None
    gold_accuracy: float | None = None
    gold_items_scored: int = 0


def answers_histogram(session: Session, project: Project) -> list[tuple[int, int]]:
    """``[(answers, items with that many answers), ...]`` sorted by answers, gaps filled."""
    rows = dict(
        session.execute(
            select(Item.answer_count, func.count())
            .where(Item.project_id == project.id)
            .group_by(Item.answer_count)
        ).all()
    )
    if not rows:
        return []
    top = max(int(k) for k in rows)
    return [(k, int(rows.get(k, 0))) for k in range(top + 1)]


def _level(project: Project) -> str:
    return "ordinal" if project.task_type == "rating" else "nominal"


def agreement(session: Session, project: Project, answers: int) -> Agreement | None:
    """Agreement for the progress page, or None when it cannot be shown (task type without a
    single label per answer, or a large project with no aggregation run yet)."""
    if project.task_type not in quality_rules.AGGREGATABLE:
        return None
    run = quality.latest_run(session, project)
    if run is not None:
        summary: dict[str, Any] = run.summary or {}
        return Agreement(
            alpha=summary.get("krippendorff_alpha"),
            level=str(summary.get("alpha_level", _level(project))),
            source="run",
            answers=int(run.answers),
            run_id=run.id,
            method=run.method,
            gold_accuracy=summary.get("gold_accuracy"),
            gold_items_scored=int(summary.get("gold_items_scored") or 0),
        )
    if answers > LIVE_ALPHA_MAX_ANSWERS:
        return None
    if answers == 0:
        return Agreement(alpha=None, level=_level(project), source="live", answers=0)
    from datacoop.algorithms.agreement import krippendorff_alpha

    frame = quality.answers_frame(session, project, tree_size=2**62)
    alpha: float | None
    try:
        alpha = float(krippendorff_alpha(frame, level=_level(project))) if len(frame) else None
    except InvalidData:
        alpha = None
    return Agreement(alpha=alpha, level=_level(project), source="live", answers=len(frame))
