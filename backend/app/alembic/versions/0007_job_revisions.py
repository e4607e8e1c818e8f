"""Revisions of a job's sheet, and the one the job shows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("current_revision", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "job_revisions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("base_revision", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("fixed_tempo_bpm", sa.Float, nullable=True),
        sa.Column("fixed_time_signature", sa.String(8), nullable=True),
        sa.Column("first_downbeat_s", sa.Float, nullable=True),
        sa.Column("tempo_bpm", sa.Float, nullable=True),
        sa.Column("time_signature", sa.String(8), nullable=True),
        sa.Column("hit_count", sa.Integer, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("error_detail", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("job_id", "number", name="uq_job_revisions_job_number"),
    )
    op.create_index("ix_job_revisions_job_id", "job_revisions", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_job_revisions_job_id", "job_revisions")
    op.drop_table("job_revisions")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("current_revision")
