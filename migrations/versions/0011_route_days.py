"""The driver's days: the phone carries today and a few days ahead; route positions per day

Revision ID: 0011_route_days
Revises: 0011_photo_capture
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_route_days"
down_revision = "0011_photo_capture"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sync_driver_days",
        sa.Column("driver_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("days_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days_end", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pickups_driver_window", "pickups", ["driver_id", "window_start"])


def downgrade():
    op.drop_index("ix_pickups_driver_window", table_name="pickups")
    op.drop_table("sync_driver_days")
