"""Initial tables: tickets, ticket_events, failed_lookups.

Revision ID: 0001
Revises:
Create Date: 2024-11-01 00:00:00

"""

from typing import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the allowed values at this revision (do not import them from the models:
# a migration must keep describing the schema as it was).
KINDS = ("complaint", "suggestion")
CATEGORIES = ("consular", "civil_status", "justice", "social_tax_land", "other")
CONTACT_KINDS = ("chat", "email", "phone")
STATUSES = ("open", "in_progress", "answered", "closed", "cancelled")
EVENT_KINDS = (
    "created",
    "status_change",
    "note",
    "user_message",
    "staff_reply",
    "cancelled",
    "data_erased",
)
AUTHORS = ("user", "staff", "system")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=True),
        sa.Column("contact_kind", sa.String(length=8), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_tickets_kind")),
        sa.CheckConstraint(_in("category", CATEGORIES), name=op.f("ck_tickets_category")),
        sa.CheckConstraint(
            _in("contact_kind", CONTACT_KINDS), name=op.f("ck_tickets_contact_kind")
        ),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_tickets_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("ref", name=op.f("uq_tickets_ref")),
    )
    op.create_index(op.f("ix_tickets_user_key"), "tickets", ["user_key"], unique=False)
    op.create_index(op.f("ix_tickets_status"), "tickets", ["status"], unique=False)

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_status", sa.String(length=16), nullable=True),
        sa.Column("new_status", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=8), nullable=False),
        sa.CheckConstraint(_in("kind", EVENT_KINDS), name=op.f("ck_ticket_events_kind")),
        sa.CheckConstraint(_in("author", AUTHORS), name=op.f("ck_ticket_events_author")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_events_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index(
        op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"], unique=False
    )

    op.create_table(
        "failed_lookups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_lookups")),
    )
    op.create_index(
        "ix_failed_lookups_user_key_at", "failed_lookups", ["user_key", "at"], unique=False
    )
    op.create_index("ix_failed_lookups_at", "failed_lookups", ["at"], unique=False)


def downgrade() -> None:
    """Drop the tables."""
    op.drop_index("ix_failed_lookups_at", table_name="failed_lookups")
    op.drop_index("ix_failed_lookups_user_key_at", table_name="failed_lookups")
    op.drop_table("failed_lookups")
    op.drop_index(op.f("ix_ticket_events_ticket_id"), table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index(op.f("ix_tickets_status"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_user_key"), table_name="tickets")
    op.drop_table("tickets")
