"""pay fraud clawback: clawed-back top-ups, who approved, and a payout threshold

Adds ``pay_rejections.clawed_back`` (top-ups taken back after confirmed fraud, minor units),
``pay_approvals.approved_by`` (the approving member; NULL for automatic approval, which is
what every approval made before this migration was or is taken to be) and
``pay_policies.payout_threshold`` (minor units; 0 = no minimum). Server defaults keep
existing rows valid.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pay_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payout_threshold", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("pay_rejections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clawed_back", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("pay_approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_pay_approvals_approved_by_members"), "members", ["approved_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("pay_approvals", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_pay_approvals_approved_by_members"), type_="foreignkey"
        )
        batch_op.drop_column("approved_by")
    with op.batch_alter_table("pay_rejections", schema=None) as batch_op:
        batch_op.drop_column("clawed_back")
    with op.batch_alter_table("pay_policies", schema=None) as batch_op:
        batch_op.drop_column("payout_threshold")
