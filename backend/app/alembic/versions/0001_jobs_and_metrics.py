"""Jobs and metric counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("stage_progress", sa.Integer, nullable=False),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("failed_stage", sa.String(32), nullable=True),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("source_kind", sa.String(8), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("separator", sa.String(16), nullable=True),
        sa.Column("model", sa.String(64), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("tempo_bpm", sa.Float, nullable=True),
        sa.Column("time_signature", sa.String(8), nullable=True),
        sa.Column("hit_count", sa.Integer, nullable=True),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_jobs_owner", "jobs", ["owner"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_cancelled", "jobs", ["cancelled"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_table(
        "metric_counters",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("labels", sa.String(256), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("metric_counters")
    op.drop_index("ix_jobs_created_at", "jobs")
    op.drop_index("ix_jobs_cancelled", "jobs")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_index("ix_jobs_owner", "jobs")
    op.drop_table("jobs")
