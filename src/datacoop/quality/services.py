"""Use cases of quality control: aggregation runs, worker skills, dynamic overlap."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from datacoop.members.models import Contributor
from datacoop.projects.models import Item, Project
from datacoop.quality.models import WorkerSkill
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
