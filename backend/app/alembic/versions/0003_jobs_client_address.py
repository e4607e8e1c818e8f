"""Jobs remember a hash of the client address that created them (the per-address quota).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs from before this column have no address: they count for their owner's quota only.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("client_address", sa.String(64), nullable=True))
    op.create_index("ix_jobs_client_address", "jobs", ["client_address"])


def downgrade() -> None:
    op.drop_index("ix_jobs_client_address", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("client_address")
