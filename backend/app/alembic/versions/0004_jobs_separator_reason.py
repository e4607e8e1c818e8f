"""Jobs remember why their separator ran (SEPARATOR=auto may fall back to none), for the result page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs from before this column have no reason: the result page then names the separator only.
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("separator_reason", sa.String(48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("separator_reason")
