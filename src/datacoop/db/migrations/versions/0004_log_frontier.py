"""log: keep the tree's right edge and the newest signed size in log_state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("frontier", sa.LargeBinary(), nullable=False, server_default=sa.text("''"))
        )
        batch_op.add_column(
            sa.Column("signed", sa.BigInteger(), nullable=False, server_default="0")
        )
    # Fill both for a log that already has entries.
    from datacoop.algorithms import ledger

    bind = op.get_bind()
    size = bind.execute(sa.text("SELECT size FROM log_state WHERE id = 1")).scalar() or 0
    if size:
        parts = [ledger.node_key(a, b) for a, b in ledger.range_hash_nodes(0, size)]
        hashes = []
        for level, idx in parts:
            if level == 0:
                row = bind.execute(
                    sa.text("SELECT leaf_hash FROM log_entries WHERE idx = :i"), {"i": idx}
                ).scalar()
            else:
                row = bind.execute(
                    sa.text("SELECT hash FROM log_nodes WHERE level = :l AND idx = :i"),
                    {"l": level, "i": idx},
                ).scalar()
            assert row is not None, f"log node ({level}, {idx}) is missing"
            hashes.append(bytes(row))
        signed = bind.execute(sa.text("SELECT max(tree_size) FROM log_tree_heads")).scalar() or 0
        bind.execute(
            sa.text("UPDATE log_state SET frontier = :f, signed = :s WHERE id = 1"),
            {"f": b"".join(hashes), "s": signed},
        )


def downgrade() -> None:
    with op.batch_alter_table("log_state", schema=None) as batch_op:
        batch_op.drop_column("signed")
        batch_op.drop_column("frontier")
