"""The unit of work: one session, one transaction, per request or command.

Services receive the session and only ``flush``; the unit of work commits when the request or
command finished without error and rolls back otherwise, so a change and the log entry that
records it always land together.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from datacoop.clock import Clock
    from datacoop.log.signer import Signer


class UnitOfWork:
    """``with UnitOfWork(engine, signer=..., clock=...) as session:`` commits on success.

    With a signer, log entries appended in the transaction are sealed (their tree heads
    signed) just before the commit, in the same transaction.
    """

    def __init__(
        self, engine: Engine, *, signer: Signer | None = None, clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.clock = clock
        self._factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
        self.session: Session | None = None

    def __enter__(self) -> Session:
        self.session = self._factory()
        return self.session

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.session is not None
        try:
            if exc_type is None:
                if self.signer is not None and self.session.info.get("log_appended"):
                    from datacoop.clock import SystemClock
                    from datacoop.log.services import seal

                    seal(self.session, self.clock or SystemClock(), self.signer)
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
            self.session = None
