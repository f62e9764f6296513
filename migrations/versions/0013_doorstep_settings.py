"""The admins' settings for the door: photos per grade, signature, scan, failure reasons, photo size

Revision ID: 0013_doorstep_settings
Revises: 0012_outbox_due
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_doorstep_settings"
down_revision = "0012_outbox_due"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "doorstep_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name="fk_doorstep_settings_updated_by_id_users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("key", name="pk_doorstep_settings"),
    )


def downgrade():
    op.drop_table("doorstep_settings")
