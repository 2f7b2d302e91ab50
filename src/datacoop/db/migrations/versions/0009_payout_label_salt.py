"""payout label salt: payout postings name the member by a salted hash in the log

Adds ``payout_lines.label_salt`` (32 hex digits, the 16-byte salt of the line's log label).
Lines made before this migration have none: their log entries name the member's pseudonym.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_salt", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.drop_column("label_salt")
