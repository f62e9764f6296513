"""retention: when a pickup's personal data was removed

Revision ID: 0008_retention
Revises: 0004_sync
Create Date: 2026-12-02 12:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0008_retention"
down_revision = "0004_sync"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pickups") as batch_op:
        batch_op.add_column(sa.Column("personal_data_removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("pickups") as batch_op:
        batch_op.drop_column("personal_data_removed_at")
