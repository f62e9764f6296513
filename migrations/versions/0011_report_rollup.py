"""The report's rollup: per-day sums per hub, driver and dimension, and each pickup's share of them;
filled from the existing rows

Revision ID: 0011_report_rollup
Revises: 0010_phone_holdings
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0011_report_rollup"
down_revision = "0010_phone_holdings"
branch_labels = None
depends_on = None

MEASURES = ("count", "quantity", "value_cents", "kept_g", "weight_g", "stop_ms")


def _measures():
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES]


def upgrade():
    op.create_table(
        "report_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        *_measures(),
        sa.PrimaryKeyConstraint("day", "hub_id", "driver_id", "dimension", "key"),
    )
    op.create_table(
        "report_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pickup_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        *_measures(),
        sa.ForeignKeyConstraint(["pickup_id"], ["pickups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_facts_pickup", "report_facts", ["pickup_id"])
    # Backfill: every existing pickup counted from its rows, in this migration's transaction.
    # (It uses the app's counting code: `flask reports rebuild` does the same at any later time.)
    from app.reports.rollup import rebuild

    session = Session(bind=op.get_bind())
    try:
        rebuild(session)
        session.flush()
    finally:
        session.close()


def downgrade():
    op.drop_index("ix_report_facts_pickup", table_name="report_facts")
    op.drop_table("report_facts")
    op.drop_table("report_rollup")
