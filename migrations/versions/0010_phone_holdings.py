"""The phone reports what it holds: unsynced actions and photos and the age of the oldest, per app install

Revision ID: 0010_phone_holdings
Revises: 0006_dispatch_day
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_phone_holdings"
down_revision = "0006_dispatch_day"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_clients") as batch:
        batch.add_column(sa.Column("held_actions", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held_photos", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("held_oldest_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("held_reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("sync_clients") as batch:
        for name in ("held_reported_at", "held_oldest_at", "held_photos", "held_actions"):
            batch.drop_column(name)
