"""Use cases for projects: create, read, update instructions, import items, progress."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from datacoop.clock import Clock
from datacoop.errors import ImportFailed, NotFound, ValidationFailed
from datacoop.log import services as log
from datacoop.log.kinds import EntryKind
from datacoop.members import rules as member_rules
from datacoop.members.models import Member, Role
from datacoop.projects import importing, rules, tasktypes
from datacoop.projects.models import InstructionVersion, Item, ItemImport, Project

IMPORT_BATCH = 5000


def create_project(session: Session, clock: Clock, owner: Member, spec: object) -> Project:
    member_rules.require_can_create_projects(owner)
    valid = rules.validate_spec(spec)
    now = clock.now()
    project = Project(
        owner_id=owner.id,
        title=valid.title,
        task_type=valid.task_type,
        config=valid.config,
        overlap=valid.overlap,
        lease_seconds=valid.lease_seconds,
        pay_per_item=valid.pay_per_item,
        estimated_seconds=valid.estimated_seconds,
        currency=valid.currency,
        sensitivity=valid.sensitivity,
        instructions_version=1,
        dynamic_overlap=valid.dynamic_overlap,
        created_at=now,
    )
    session.add(project)
    session.flush()
    session.add(
        InstructionVersion(
            project_id=project.id, version=1, text=valid.instructions, created_at=now
        )
    )
    session.flush()
    log.append(
        session,
        clock,
        EntryKind.project_created,
        project=project.id,
        task_type=project.task_type,
        overlap=project.overlap,
        pay_per_item=project.pay_per_item,
        estimated_seconds=project.estimated_seconds,
        currency=project.currency,
        instructions_sha256=hashlib.sha256(valid.instructions.encode()).hexdigest(),
    )
    return project


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project with id {project_id}")
    return project


def get_managed_project(session: Session, member: Member, project_id: int) -> Project:
    project = get_project(session, project_id)
    rules.require_manage(member, project)
    return project


def list_projects(
    session: Session, member: Member, *, mine: bool, after: int = 0, limit: int = 50
) -> list[Project]:
    """Requesters list their own projects (``mine``); anyone may browse all open projects."""
    query = select(Project).where(Project.id > after).order_by(Project.id).limit(limit)
    if mine and member.role is not Role.steward:
        query = query.where(Project.owner_id == member.id)
    return list(session.scalars(query))


def current_instructions(session: Session, project: Project) -> InstructionVersion:
    found = session.scalar(
        select(InstructionVersion).where(
            InstructionVersion.project_id == project.id,
            InstructionVersion.version == project.instructions_version,
        )
    )
    assert found is not None
    return found


def instruction_history(session: Session, project: Project) -> list[InstructionVersion]:
    return list(
        session.scalars(
            select(InstructionVersion)
            .where(InstructionVersion.project_id == project.id)
            .order_by(InstructionVersion.version)
        )
    )


def update_project(
    session: Session,
    clock: Clock,
    member: Member,
    project: Project,
    *,
    title: str | None = None,
    instructions: str | None = None,
) -> Project:
    """Change the title or the instructions. A new text adds a version; old ones are kept."""
    rules.require_manage(member, project)
    if title is not None:
        if not title.strip() or len(title) > 200:
            raise ValidationFailed.field("title", "must be a string of 1 to 200 characters")
        project.title = title.strip()
    if instructions is not None:
        if len(instructions) > rules.MAX_INSTRUCTIONS:
            raise ValidationFailed.field("instructions", "is too long")
        if instructions != current_instructions(session, project).text:
            project.instructions_version += 1
            session.add(
                InstructionVersion(
                    project_id=project.id,
                    version=project.instructions_version,
                    text=instructions,
                    created_at=clock.now(),
                )
            )
    session.flush()
    return project


class _HashingReader:
    """Wraps the upload so the file's SHA-256 is computed while it streams past."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.sha.update(chunk)
        return chunk

    def readable(self) -> bool:
        return True


def import_items(
    session: Session,
    clock: Clock,
    member: Member,
    project: Project,
    stream: IO[bytes],
    *,
    fmt: str,
    filename: str | None = None,
    max_items: int = 1_000_000,
    progress: Any = None,
) -> ItemImport:
    """Import items all-or-nothing: the first bad row raises ``ImportFailed`` (line, reason).

    Rows are validated and inserted in batches while the file streams, so memory stays flat;
    the caller's unit of work rolls the whole import back on any error.
    """
    rules.require_manage(member, project)
    if fmt not in importing.FORMATS:
        raise ValidationFailed.field("format", "must be one of: " + ", ".join(importing.FORMATS))
    now = clock.now()
    record = ItemImport(
        project_id=project.id,
        filename=filename,
        format=fmt,
        item_count=0,
        sha256="",
        created_at=now,
    )
    session.add(record)
    session.flush()
    reader = _HashingReader(stream)
    batch: list[dict[str, Any]] = []
    count = 0
    for row in importing.iter_items(reader, fmt, max_items=max_items):  # type: ignore[arg-type]
        batch.append(_item_row(project, record.id, row, now))
        count += 1
        if len(batch) >= IMPORT_BATCH:
            session.execute(insert(Item), batch)
            batch = []
            if progress is not None:
                progress(count)
    if batch:
        session.execute(insert(Item), batch)
    if count == 0:
        raise ImportFailed(1, "the file holds no items")
    record.item_count = count
    record.sha256 = reader.sha.hexdigest()
    session.flush()
    log.append(
        session,
        clock,
        EntryKind.items_imported,
        project=project.id,
        items=count,
        file_sha256=record.sha256,
        **{"import": record.id},
    )
    if progress is not None:
        progress(count)
    return record


def _item_row(
    project: Project, import_id: int, row: importing.ParsedItem, now: Any
) -> dict[str, Any]:
    try:
        tasktypes.validate_item_data(project.task_type, project.config, row.data)
        gold = row.gold
        if gold is not None:
            if row.gold_is_text:
                gold = tasktypes.answer_from_text(project.task_type, project.config, str(gold))
            gold = tasktypes.validate_answer(project.task_type, project.config, row.data, gold)
    except ValidationFailed as exc:
        raise ImportFailed(row.line, _as_gold_reason(exc)) from exc
    return {
        "project_id": project.id,
        "import_id": import_id,
        "external_id": row.external_id,
        "data": row.data,
        "gold": gold,
        "is_gold": gold is not None,
        "answer_count": 0,
        "wanted": project.overlap,
        "created_at": now,
    }


def _as_gold_reason(exc: ValidationFailed) -> str:
    """The answer validator's message, with its field names (only) renamed to gold."""
    if not isinstance(exc.details, list):
        return exc.message
    return "; ".join(
        re.sub(r"^answer\b", "gold", d["field"])
        + ": "
        + re.sub(r"\banswer\[", "gold[", d["message"])
        for d in exc.details
    )


def list_items(
    session: Session, project: Project, *, after: int = 0, limit: int = 50
) -> list[Item]:
    return list(
        session.scalars(
            select(Item)
            .where(Item.project_id == project.id, Item.id > after)
            .order_by(Item.id)
            .limit(limit)
        )
    )


def count_items(session: Session, project: Project) -> int:
    return session.scalar(select(func.count()).where(Item.project_id == project.id)) or 0


def iter_all_items(session: Session, project: Project, batch: int = 2000) -> Iterator[Item]:
    after = 0
    while True:
        rows = list_items(session, project, after=after, limit=batch)
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def list_imports(session: Session, project: Project, *, limit: int = 50) -> list[ItemImport]:
    """The project's accepted imports, newest first."""
    return list(
        session.scalars(
            select(ItemImport)
            .where(ItemImport.project_id == project.id)
            .order_by(ItemImport.id.desc())
            .limit(limit)
        )
    )
