"""Dataset export: every item with its accepted answers, as JSONL or CSV, streamed.

Workers appear only as per-project contributor ids; gold answers are included (the requester
supplied them). Aggregated labels arrive with the quality engine.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datacoop.errors import ValidationFailed
from datacoop.members.models import Contributor
from datacoop.projects.models import Item, Project
from datacoop.work.models import Submission

EXPORT_FORMATS = ("jsonl", "csv")
CSV_COLUMNS = [
    "item_id",
    "external_id",
    "contributor_id",
    "answer",
    "active_seconds",
    "wall_seconds",
    "late",
    "submitted_at",
    "gold",
    "aggregated_label",
]
_BATCH = 1000


def _answers_for(
    session: Session, project: Project, item_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    rows = session.execute(
        select(Submission, Contributor.contributor_id)
        .join(
            Contributor,
            (Contributor.member_id == Submission.member_id)
            & (Contributor.project_id == Submission.project_id),
        )
        .where(Submission.item_id.in_(item_ids))
        .order_by(Submission.id)
    ).all()
    out: dict[int, list[dict[str, Any]]] = {}
    for sub, contributor_id in rows:
        out.setdefault(sub.item_id, []).append(
            {
                "contributor_id": contributor_id,
                "answer": sub.answer,
                "active_seconds": round(sub.active_ms / 1000, 3),
                "wall_seconds": round(sub.wall_ms / 1000, 3),
                "late": sub.late,
                "submitted_at": sub.created_at.isoformat(),
            }
        )
    return out


def _item_batches(
    session: Session, project: Project
) -> Iterator[tuple[list[Item], dict[int, list[dict[str, Any]]]]]:
    after = 0
    while True:
        items = list(
            session.scalars(
                select(Item)
                .where(Item.project_id == project.id, Item.id > after)
                .order_by(Item.id)
                .limit(_BATCH)
            )
        )
        if not items:
            return
        yield items, _answers_for(session, project, [i.id for i in items])
        after = items[-1].id


def export_lines(
    session: Session, project: Project, fmt: str, *, aggregation: int | None = None
) -> Iterator[str]:
    """Yield the export as text chunks (one per line). With ``aggregation`` (a run id; the
    default is the project's newest run, if any) each item also carries its aggregated label."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed.field("format", "must be jsonl or csv")
    aggregated = _aggregated(session, project, aggregation)
    if fmt == "csv":
        yield _csv_row(CSV_COLUMNS)
    for items, answers in _item_batches(session, project):
        for item in items:
            item_answers = answers.get(item.id, [])
            if fmt == "jsonl":
                record = {
                    "item_id": item.id,
                    "external_id": item.external_id,
                    "data": item.data,
                    "gold": item.gold,
                    "answers": item_answers,
                    "aggregated_label": aggregated.get(item.id),
                }
                yield json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
                continue
            for a in item_answers:
                yield _csv_row(
                    [
                        item.id,
                        item.external_id or "",
                        a["contributor_id"],
                        json.dumps(a["answer"], ensure_ascii=False),
                        a["active_seconds"],
                        a["wall_seconds"],
                        "true" if a["late"] else "false",
                        a["submitted_at"],
                        "" if item.gold is None else json.dumps(item.gold, ensure_ascii=False),
                        ""
                        if item.id not in aggregated
                        else json.dumps(aggregated[item.id], ensure_ascii=False),
                    ]
                )


def _aggregated(session: Session, project: Project, run_id: int | None) -> dict[int, Any]:
    from datacoop.errors import NotFound
    from datacoop.quality import services as quality
    from datacoop.quality.models import AggregationRun

    if run_id is None:
        latest = quality.latest_run(session, project)
        return {} if latest is None else quality.labels_by_item(session, latest.id)
    run = session.get(AggregationRun, run_id)
    if run is None or run.project_id != project.id:
        raise NotFound(f"no aggregation run {run_id} in this project")
    return quality.labels_by_item(session, run_id)


def _csv_row(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()
