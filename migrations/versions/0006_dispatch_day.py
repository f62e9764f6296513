"""dispatch day: drivers' shift hours and van capacity, for planning the day

Revision ID: 0006_dispatch_day
Revises: 0007_value_recovery
Create Date: 2026-12-02 13:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0006_dispatch_day"
down_revision = "0007_value_recovery"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("shift_start", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("shift_end", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("capacity_items", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("capacity_items")
        batch_op.drop_column("shift_end")
        batch_op.drop_column("shift_start")
