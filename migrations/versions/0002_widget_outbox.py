"""Web widget outbox: messages queued for widget users (staff answers, notifications).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-29 00:00:00

"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the allowed values at this revision (see 0001).
AUTHORS = ("bot", "staff", "system")


def upgrade() -> None:
    """Create the widget_outbox table."""
    op.create_table(
        "widget_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            f"author IN ({', '.join(repr(a) for a in AUTHORS)})",
            name=op.f("ck_widget_outbox_author"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_outbox")),
    )
    op.create_index(
        "ix_widget_outbox_recipient_key_id",
        "widget_outbox",
        ["recipient_key", "id"],
        unique=False,
    )
    op.create_index("ix_widget_outbox_created_at", "widget_outbox", ["created_at"], unique=False)


def downgrade() -> None:
    """Drop the widget_outbox table."""
    op.drop_index("ix_widget_outbox_created_at", table_name="widget_outbox")
    op.drop_index("ix_widget_outbox_recipient_key_id", table_name="widget_outbox")
    op.drop_table("widget_outbox")
