"""pay: policy, accounts, postings, project funding, piece payments

Seeds the default pay policy: a floor of 15.00 USD an hour, a hard minimum of 8.00, a fee of
15% (the cap), unreviewed work approved after 7 days.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:33:24
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import datacoop.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    policies = op.create_table(
        "pay_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("floor_hourly", sa.BigInteger(), nullable=False),
        sa.Column("hard_minimum_hourly", sa.BigInteger(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("fee_cap_bps", sa.Integer(), nullable=False),
        sa.Column("auto_approve_days", sa.Integer(), nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fee_bps >= 0 AND fee_bps <= fee_cap_bps", name=op.f("ck_pay_policies_fee_within_cap")
        ),
        sa.CheckConstraint(
            "floor_hourly >= hard_minimum_hourly", name=op.f("ck_pay_policies_floor_above_minimum")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_policies")),
    )
    op.bulk_insert(
        policies,
        [
            {
                "currency": "USD",
                "floor_hourly": 1500,
                "hard_minimum_hourly": 800,
                "fee_bps": 1500,
                "fee_cap_bps": 1500,
                "auto_approve_days": 7,
                "created_at": datetime(2026, 11, 29, tzinfo=UTC),
            }
        ],
    )
    op.create_table(
        "pay_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "funding",
                "escrow",
                "payable",
                "fee",
                "reserve",
                "clearing",
                name="accountkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_pay_accounts_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_pay_accounts_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_accounts")),
        sa.UniqueConstraint("key", name=op.f("uq_pay_accounts_key")),
    )
    with op.batch_alter_table("pay_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pay_accounts_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pay_accounts_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "pay_postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_pay_postings_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_postings")),
        sa.UniqueConstraint("key", name=op.f("uq_pay_postings_key")),
    )
    with op.batch_alter_table("pay_postings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_postings_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "project_pay",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft", "launched", "paused", name="fundingstate", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("task_cost", sa.BigInteger(), nullable=False),
        sa.Column("reserved_tasks", sa.BigInteger(), nullable=False),
        sa.Column("funded_tasks", sa.BigInteger(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("launched_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("settled_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "reserved_tasks <= funded_tasks", name=op.f("ck_project_pay_reserved_funded")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["pay_policies.id"], name=op.f("fk_project_pay_policy_id_pay_policies")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_pay_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_pay")),
    )
    op.create_table(
        "pay_posting_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["pay_accounts.id"],
            name=op.f("fk_pay_posting_lines_account_id_pay_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["pay_postings.id"],
            name=op.f("fk_pay_posting_lines_posting_id_pay_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_posting_lines")),
    )
    with op.batch_alter_table("pay_posting_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_posting_lines_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pay_posting_lines_posting_id"), ["posting_id"], unique=False
        )

    op.create_table(
        "pay_piece_payments",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("posting_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_pay_piece_payments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["pay_postings.id"],
            name=op.f("fk_pay_piece_payments_posting_id_pay_postings"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_pay_piece_payments_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_pay_piece_payments_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_pay_piece_payments")),
    )
    with op.batch_alter_table("pay_piece_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_piece_payments_posting_id"), ["posting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pay_piece_payments_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pay_piece_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_piece_payments_project_id"))
        batch_op.drop_index(batch_op.f("ix_pay_piece_payments_posting_id"))

    op.drop_table("pay_piece_payments")
    with op.batch_alter_table("pay_posting_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_posting_lines_posting_id"))
        batch_op.drop_index(batch_op.f("ix_pay_posting_lines_account_id"))

    op.drop_table("pay_posting_lines")
    op.drop_table("project_pay")
    with op.batch_alter_table("pay_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_postings_project_id"))

    op.drop_table("pay_postings")
    with op.batch_alter_table("pay_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_accounts_project_id"))
        batch_op.drop_index(batch_op.f("ix_pay_accounts_member_id"))

    op.drop_table("pay_accounts")
    op.drop_table("pay_policies")
