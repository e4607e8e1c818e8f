"""Jobs keep the operator's detail of a failure apart from the musician's message.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs that failed before this column keep their old message, operator's words and all; they expire
    # after ARTIFACT_TTL_HOURS.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("error_detail", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("error_detail")
