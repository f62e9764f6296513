"""Big CSV imports run as background jobs: their status, progress, error and the worker's lease

Revision ID: 0011_import_jobs
Revises: 0011_report_rollup
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_import_jobs"
down_revision = "0011_report_rollup"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("csv_imports") as batch:
        batch.add_column(sa.Column("job_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("pickups_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pickups_done", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("job_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("csv_imports") as batch:
        for name in ("finished_at", "locked_until", "job_error", "pickups_done", "pickups_total", "job_status"):
            batch.drop_column(name)
