"""reviews and appeals: rejections, appeals, approvals, requester reviews, appeal window

Adds ``appeal_days`` (default 14) to the pay policy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import datacoop.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TS = datacoop.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("pay_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("appeal_days", sa.Integer(), server_default="14", nullable=False)
        )

    op.create_table(
        "pay_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "wrong_answer",
                "ignored_instructions",
                "gibberish",
                "suspected_fraud",
                name="rejectionreason",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "appealed",
                "upheld",
                "overturned",
                "fraud_confirmed",
                name="rejectionstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("appeal_deadline", _TS, nullable=False),
        sa.Column("appeal", sa.Text(), nullable=True),
        sa.Column("appealed_at", _TS, nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("withheld", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_pay_rejections_assignment_id_assignments"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["members.id"], name=op.f("fk_pay_rejections_decided_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_pay_rejections_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_pay_rejections_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["members.id"], name=op.f("fk_pay_rejections_requester_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_pay_rejections_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_rejections")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_pay_rejections_submission_id")),
    )
    with op.batch_alter_table("pay_rejections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_rejections_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pay_rejections_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pay_rejections_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pay_rejections_state"), ["state"], unique=False)

    op.create_table(
        "pay_approvals",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_pay_approvals_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_pay_approvals_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_pay_approvals")),
    )
    with op.batch_alter_table("pay_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_approvals_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "pay_requester_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("communicativity", sa.Integer(), nullable=False),
        sa.Column("generosity", sa.Integer(), nullable=False),
        sa.Column("fairness", sa.Integer(), nullable=False),
        sa.Column("promptness", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "communicativity BETWEEN 1 AND 5 AND generosity BETWEEN 1 AND 5 "
            "AND fairness BETWEEN 1 AND 5 AND promptness BETWEEN 1 AND 5",
            name=op.f("ck_pay_requester_reviews_ratings_1_to_5"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["members.id"],
            name=op.f("fk_pay_requester_reviews_requester_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["members.id"],
            name=op.f("fk_pay_requester_reviews_reviewer_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_requester_reviews")),
        sa.UniqueConstraint(
            "requester_id",
            "reviewer_id",
            name=op.f("uq_pay_requester_reviews_requester_id_reviewer_id"),
        ),
    )
    with op.batch_alter_table("pay_requester_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pay_requester_reviews_requester_id"), ["requester_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pay_requester_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_requester_reviews_requester_id"))
    op.drop_table("pay_requester_reviews")
    with op.batch_alter_table("pay_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_approvals_project_id"))
    op.drop_table("pay_approvals")
    with op.batch_alter_table("pay_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pay_rejections_state"))
        batch_op.drop_index(batch_op.f("ix_pay_rejections_project_id"))
        batch_op.drop_index(batch_op.f("ix_pay_rejections_member_id"))
        batch_op.drop_index(batch_op.f("ix_pay_rejections_assignment_id"))
    op.drop_table("pay_rejections")
    with op.batch_alter_table("pay_policies", schema=None) as batch_op:
        batch_op.drop_column("appeal_days")
