"""transparency log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 16:13:27.591319
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datacoop.db.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_entries")),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
    )
    # The single row whose lock serialises appends.
    op.execute("INSERT INTO log_state (id, size) VALUES (1, 0)")
    op.create_table(
        "log_tree_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_log_tree_heads")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        # Submissions made before the log existed have no salt (and no entry).
        batch_op.add_column(
            sa.Column("answer_salt", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("log_index")
        batch_op.drop_column("answer_salt")

    op.drop_table("log_tree_heads")
    op.drop_table("log_state")
    op.drop_table("log_nodes")
    op.drop_table("log_entries")
