"""Tables of the persisted log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from datacoop.db.base import Base


class LogEntry(Base):
    """One leaf: ``payload`` is the canonical JSON (the exact bytes hashed, as UTF-8 text)."""

    __tablename__ = "log_entries"

    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]


class LogNode(Base):
    """The hash of a completed perfect subtree, level >= 1 (level 0 is the entry's leaf hash).

    With every completed subtree stored, any root or proof needs O(log n) lookups.
    """

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class TreeHeadRecord(Base):
    """A signed tree head: (size, root, timestamp in ms) signed with the log's Ed25519 key."""

    __tablename__ = "log_tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class LogState(Base):
    """A single row holding the log's size. Locking it serialises appends on every backend."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    # The roots of the perfect subtrees covering [0, size), largest first, concatenated:
    # appends need no lookups. Recomputable from log_nodes; verify checks it.
    frontier: Mapped[bytes] = mapped_column(LargeBinary, server_default=text("''"))
    signed: Mapped[int] = mapped_column(BigInteger, server_default="0")  # newest signed size
