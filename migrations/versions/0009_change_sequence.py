"""PostgreSQL hands out change numbers from a sequence, not the one change_counter row every writer waited for;
pulls get the indexes they use (reset: driver + status + updated_at) and lose the one that misled the planner

Revision ID: 0009_change_sequence
Revises: 0005_messages
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_change_sequence"
down_revision = "0005_messages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pickups", schema=None) as batch_op:
        batch_op.drop_index("ix_pickups_change_seq")
        batch_op.create_index("ix_pickups_driver_status_updated", ["driver_id", "status", "updated_at"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps the counter row: it serialises writers anyway.
    last = op.get_bind().execute(sa.text("SELECT value FROM change_counter WHERE id = 1")).scalar() or 0
    op.execute(f"CREATE SEQUENCE change_numbers START WITH {int(last) + 1}")


def downgrade():
    with op.batch_alter_table("pickups", schema=None) as batch_op:
        batch_op.drop_index("ix_pickups_driver_status_updated")
        batch_op.create_index("ix_pickups_change_seq", ["change_seq"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "UPDATE change_counter SET value = (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM change_numbers)"
        " WHERE id = 1"
    )
    op.execute("DROP SEQUENCE change_numbers")
