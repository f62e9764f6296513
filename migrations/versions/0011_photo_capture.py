"""Photo evidence: each photo's own capture time and place, as the phone sent them with the upload

Revision ID: 0011_photo_capture
Revises: 0011_import_jobs
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_photo_capture"
down_revision = "0011_import_jobs"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: photos uploaded before this, and by older apps, have no capture facts of their own.
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch.add_column(sa.Column("accuracy_m", sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table("photos") as batch:
        for name in ("accuracy_m", "lon", "lat", "captured_at"):
            batch.drop_column(name)
