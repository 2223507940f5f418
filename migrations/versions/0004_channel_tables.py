"""Messaging channels: channel_deliveries, channel_contacts, channel_payloads.

Revision ID: 0004_channels
Revises: 0003_handoff
Create Date: 2026-11-29 00:00:00

"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004_channels"
down_revision: str | None = "0003_handoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables of bot/storage/channel_models.py."""
    op.create_table(
        "channel_deliveries",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "message_hash", name=op.f("pk_channel_deliveries")),
    )
    op.create_index(
        "ix_channel_deliveries_received_at", "channel_deliveries", ["received_at"], unique=False
    )
    op.create_table(
        "channel_contacts",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_key", name=op.f("pk_channel_contacts")),
    )
    op.create_index(
        "ix_channel_contacts_last_inbound_at", "channel_contacts", ["last_inbound_at"], unique=False
    )
    op.create_table(
        "channel_payloads",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_channel_payloads")),
    )
    op.create_index(
        "ix_channel_payloads_last_used_at", "channel_payloads", ["last_used_at"], unique=False
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_index("ix_channel_payloads_last_used_at", table_name="channel_payloads")
    op.drop_table("channel_payloads")
    op.drop_index("ix_channel_contacts_last_inbound_at", table_name="channel_contacts")
    op.drop_table("channel_contacts")
    op.drop_index("ix_channel_deliveries_received_at", table_name="channel_deliveries")
    op.drop_table("channel_deliveries")
