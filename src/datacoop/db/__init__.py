"""Storage: the declarative base, engines, the unit of work and Alembic migrations."""

from datacoop.db.base import Base
from datacoop.db.engine import create_db_engine, upgrade_to_head
from datacoop.db.uow import UnitOfWork

__all__ = ["Base", "UnitOfWork", "create_db_engine", "upgrade_to_head"]
