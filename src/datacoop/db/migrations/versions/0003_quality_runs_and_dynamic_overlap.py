"""quality runs and dynamic overlap

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 16:36:24.558332
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import datacoop.db.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", datacoop.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["members.id"], name=op.f("fk_aggregation_runs_created_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_aggregation_runs_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregation_runs")),
    )
    with op.batch_alter_table("aggregation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_aggregation_runs_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "worker_skills",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.Float(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_worker_skills_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_worker_skills_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["aggregation_runs.id"],
            name=op.f("fk_worker_skills_run_id_aggregation_runs"),
        ),
        sa.PrimaryKeyConstraint("project_id", "member_id", name=op.f("pk_worker_skills")),
    )
    op.create_table(
        "aggregated_labels",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "label",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_aggregated_labels_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["aggregation_runs.id"],
            name=op.f("fk_aggregated_labels_run_id_aggregation_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "item_id", name=op.f("pk_aggregated_labels")),
    )
    # Existing items want their project's overlap.
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wanted", sa.Integer(), nullable=False, server_default="1"))
    op.execute(
        "UPDATE items SET wanted = (SELECT overlap FROM projects WHERE projects.id = items.project_id)"
    )

    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dynamic_overlap",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("dynamic_overlap")

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("wanted")

    op.drop_table("aggregated_labels")
    op.drop_table("worker_skills")
    with op.batch_alter_table("aggregation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aggregation_runs_project_id"))

    op.drop_table("aggregation_runs")
