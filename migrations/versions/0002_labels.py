"""labels: customer link tokens; hub: item dispositions

Revision ID: 0002_labels
Revises: 0001_foundation
Create Date: 2026-11-24 21:54:47.964691

"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_labels'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pickup_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pickup_id'], ['pickups.id'], name=op.f('fk_customer_tokens_pickup_id_pickups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_customer_tokens_token'))
    )
    with op.batch_alter_table('customer_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_tokens_pickup_id'), ['pickup_id'], unique=False)
        # At most one active link per pickup.
        batch_op.create_index('uq_customer_tokens_active_pickup', ['pickup_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('item_dispositions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pickup_item_id', sa.Integer(), nullable=False),
    sa.Column('disposition', sa.Enum('restock', 'refurbish', 'resell', 'recycle', name='disposition'), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_item_dispositions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['pickup_item_id'], ['pickup_items.id'], name=op.f('fk_item_dispositions_pickup_item_id_pickup_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_dispositions')),
    sa.UniqueConstraint('pickup_item_id', name=op.f('uq_item_dispositions_pickup_item_id'))
    )

    # Pickups created before this migration get a customer link too (192 random bits, as the app makes).
    bind = op.get_bind()
    pickup_ids = [row[0] for row in bind.execute(sa.text('SELECT id FROM pickups ORDER BY id'))]
    if pickup_ids:
        tokens = sa.table('customer_tokens', sa.column('pickup_id', sa.Integer()), sa.column('token', sa.String()),
                          sa.column('created_at', sa.DateTime(timezone=True)))
        now = datetime.now(timezone.utc)
        op.bulk_insert(tokens, [{'pickup_id': pid, 'token': secrets.token_urlsafe(24), 'created_at': now} for pid in pickup_ids])


def downgrade():
    op.drop_table('item_dispositions')
    with op.batch_alter_table('customer_tokens', schema=None) as batch_op:
        batch_op.drop_index('uq_customer_tokens_active_pickup', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_customer_tokens_pickup_id'))

    op.drop_table('customer_tokens')
    # PostgreSQL keeps enum types after their tables are gone.
    sa.Enum(name='disposition').drop(op.get_bind(), checkfirst=True)
