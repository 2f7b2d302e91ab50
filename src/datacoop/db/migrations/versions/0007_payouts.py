"""payouts: members' payout methods, payout batches and their lines

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 14:16:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import datacoop.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "payout_methods",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sepa", "mobile_money", "other", name="payoutkind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_payout_methods_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_payout_methods")),
    )
    op.create_table(
        "payout_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "paid", name="batchstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("open_key", sa.String(length=20), nullable=True),
        sa.Column("request_key", sa.String(length=120), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("paid_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["members.id"], name=op.f("fk_payout_batches_created_by_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_id"], ["members.id"], name=op.f("fk_payout_batches_paid_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batches")),
        sa.UniqueConstraint("open_key", name=op.f("uq_payout_batches_open_key")),
        sa.UniqueConstraint("request_key", name=op.f("uq_payout_batches_request_key")),
    )
    op.create_table(
        "payout_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "sepa", "mobile_money", "other", name="payoutkind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["payout_batches.id"],
            name=op.f("fk_payout_lines_batch_id_payout_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_payout_lines_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["pay_postings.id"],
            name=op.f("fk_payout_lines_posting_id_pay_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_lines")),
        sa.UniqueConstraint(
            "batch_id", "member_id", name=op.f("uq_payout_lines_batch_id_member_id")
        ),
    )
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_lines_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payout_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_lines_member_id"))
    op.drop_table("payout_lines")
    op.drop_table("payout_batches")
    op.drop_table("payout_methods")
