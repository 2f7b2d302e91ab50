"""requester figures: settled figures per requester; assignments and submissions indexes

Adds ``pay_requester_figures`` (per requester: what its projects paid members and the
active time that pay covers, the median delay from a submission to its piece payment and
from how many members those figures come; written at settlement and after a confirmed fraud,
read by the dashboard instead of recomputing them on every view), the index
``ix_assignments_project_state`` on ``assignments (project_id, state)``, which the time
counted per project (settlement, the figures) reads instead of scanning every assignment,
and ``ix_submissions_project_member`` on ``submissions (project_id, member_id)``, from
which the dashboard counts each requester's submissions and members without their rows.
The table starts empty: a requester's figures appear at their next settlement.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datacoop.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TS = datacoop.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pay_requester_figures",
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_total", sa.BigInteger(), nullable=False),
        sa.Column("paid_members", sa.Integer(), nullable=False),
        sa.Column("active_ms", sa.BigInteger(), nullable=False),
        sa.Column("payment_delay_median_s", sa.BigInteger(), nullable=True),
        sa.Column("payment_people", sa.Integer(), nullable=False),
        sa.Column("computed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["members.id"],
            name=op.f("fk_pay_requester_figures_requester_id_members"),
        ),
        sa.PrimaryKeyConstraint("requester_id", name=op.f("pk_pay_requester_figures")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_project_state", ["project_id", "state"], unique=False)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submissions_project_member", ["project_id", "member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_project_member")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_project_state")
    op.drop_table("pay_requester_figures")
