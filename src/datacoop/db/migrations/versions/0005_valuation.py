"""valuation runs and contributor values

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import datacoop.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "valuation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("validation", sa.String(length=10), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("aggregation_run_id", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("contributors", sa.Integer(), nullable=False),
        sa.Column("validation_items", sa.Integer(), nullable=False),
        sa.Column("excluded_answers", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["aggregation_run_id"],
            ["aggregation_runs.id"],
            name=op.f("fk_valuation_runs_aggregation_run_id_aggregation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_valuation_runs_created_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_valuation_runs_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_valuation_runs")),
    )
    with op.batch_alter_table("valuation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_valuation_runs_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "contributor_values",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("n_points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_contributor_values_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["valuation_runs.id"],
            name=op.f("fk_contributor_values_run_id_valuation_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "member_id", name=op.f("pk_contributor_values")),
    )


def downgrade() -> None:
    op.drop_table("contributor_values")
    with op.batch_alter_table("valuation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_valuation_runs_project_id"))
    op.drop_table("valuation_runs")
