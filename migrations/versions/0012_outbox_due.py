"""Outbox messages queued ahead (the morning-of reminder) and skipped when no longer true

Revision ID: 0012_outbox_due
Revises: 0011_route_days
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_outbox_due"
down_revision = "0011_route_days"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL 12+ takes this inside the migration's transaction (the value is only used later).
        op.execute("ALTER TYPE outbox_status ADD VALUE IF NOT EXISTS 'skipped'")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox_messages SET due_at = created_at")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("due_at")
    # PostgreSQL cannot drop an enum value; 'skipped' stays, unused.
