"""value recovery: the hub's count and grade per item, discrepancies, disposition rules, recovery rates,
item value and weight; two more dispositions (dispose, return_to_customer)

Revision ID: 0007_value_recovery
Revises: 0009_change_sequence
Create Date: 2026-12-02 12:52:32.018173

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

DISPOSITIONS = ('restock', 'refurbish', 'resell', 'recycle', 'dispose', 'return_to_customer')
GRADES = ('A', 'B', 'C', 'D')


def _existing(values, name):
    # The type exists since 0003; on PostgreSQL a column of it must not create it again.
    if op.get_bind().dialect.name == "postgresql":
        return postgresql.ENUM(*values, name=name, create_type=False)
    return sa.Enum(*values, name=name)


# revision identifiers, used by Alembic.
revision = '0007_value_recovery'
down_revision = "0009_change_sequence"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # ALTER TYPE … ADD VALUE cannot run inside a transaction block before PostgreSQL 12's relaxation is used.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE disposition ADD VALUE IF NOT EXISTS 'dispose'")
            op.execute("ALTER TYPE disposition ADD VALUE IF NOT EXISTS 'return_to_customer'")
    op.create_table('recovery_rates',
    sa.Column('disposition', _existing(DISPOSITIONS, 'disposition'), nullable=False),
    sa.Column('rate', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('keeps_from_landfill', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('disposition', name=op.f('pk_recovery_rates'))
    )
    op.create_table('disposition_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('grade', _existing(GRADES, 'condition_grade'), nullable=True),
    sa.Column('disposition', _existing(DISPOSITIONS, 'disposition'), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_disposition_rules_hub_id_hubs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposition_rules'))
    )
    with op.batch_alter_table('disposition_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposition_rules_hub_id'), ['hub_id'], unique=False)

    op.create_table('item_discrepancies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pickup_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('quantity', 'grade', 'missing', 'extra', name='discrepancy_kind'), nullable=False),
    sa.Column('door', sa.String(length=40), nullable=True),
    sa.Column('hub', sa.String(length=40), nullable=True),
    sa.Column('driver_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['driver_id'], ['users.id'], name=op.f('fk_item_discrepancies_driver_id_users')),
    sa.ForeignKeyConstraint(['item_id'], ['pickup_items.id'], name=op.f('fk_item_discrepancies_item_id_pickup_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pickup_id'], ['pickups.id'], name=op.f('fk_item_discrepancies_pickup_id_pickups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_item_discrepancies_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_discrepancies'))
    )
    with op.batch_alter_table('item_discrepancies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_discrepancies_driver_id'), ['driver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_discrepancies_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_discrepancies_pickup_id'), ['pickup_id'], unique=False)
        batch_op.create_index('ix_item_discrepancies_recorded_at', ['recorded_at'], unique=False)

    with op.batch_alter_table('item_dispositions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quantity', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('suggested', _existing(DISPOSITIONS, 'disposition'), nullable=True))
        batch_op.add_column(sa.Column('rule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rule_text', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('recovered_value', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('kept_from_landfill_kg', sa.Numeric(precision=14, scale=3), nullable=True))
        if op.get_bind().dialect.name != "postgresql":
            batch_op.alter_column('disposition', existing_type=sa.VARCHAR(length=9), type_=sa.String(length=18), existing_nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_item_dispositions_rule_id_disposition_rules'), 'disposition_rules', ['rule_id'], ['id'], ondelete='SET NULL')

    # The report's range of one hub's days, and its look-ups of one kind of timeline entry per pickup.
    op.create_index('ix_pickups_hub_window', 'pickups', ['hub_id', 'window_start'], unique=False)
    op.create_index('ix_pickup_events_pickup_kind', 'pickup_events', ['pickup_id', 'kind'], unique=False)

    with op.batch_alter_table('pickup_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('weight_kg', sa.Numeric(precision=10, scale=3), nullable=True))
        batch_op.add_column(sa.Column('received_quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('received_grade', _existing(GRADES, 'condition_grade'), nullable=True))
        batch_op.add_column(sa.Column('unexpected', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade():
    op.drop_index('ix_pickup_events_pickup_kind', table_name='pickup_events')
    op.drop_index('ix_pickups_hub_window', table_name='pickups')
    with op.batch_alter_table('pickup_items', schema=None) as batch_op:
        batch_op.drop_column('unexpected')
        batch_op.drop_column('received_grade')
        batch_op.drop_column('received_quantity')
        batch_op.drop_column('weight_kg')
        batch_op.drop_column('value')
        batch_op.drop_column('category')

    with op.batch_alter_table('item_dispositions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_item_dispositions_rule_id_disposition_rules'), type_='foreignkey')
        # PostgreSQL cannot drop values from an enum type: 'dispose' and 'return_to_customer' stay defined, unused.
        if op.get_bind().dialect.name != "postgresql":
            batch_op.alter_column('disposition', existing_type=sa.String(length=18), type_=sa.VARCHAR(length=9), existing_nullable=False)
        batch_op.drop_column('kept_from_landfill_kg')
        batch_op.drop_column('recovered_value')
        batch_op.drop_column('rule_text')
        batch_op.drop_column('rule_id')
        batch_op.drop_column('suggested')
        batch_op.drop_column('reason')
        batch_op.drop_column('quantity')

    with op.batch_alter_table('item_discrepancies', schema=None) as batch_op:
        batch_op.drop_index('ix_item_discrepancies_recorded_at')
        batch_op.drop_index(batch_op.f('ix_item_discrepancies_pickup_id'))
        batch_op.drop_index(batch_op.f('ix_item_discrepancies_item_id'))
        batch_op.drop_index(batch_op.f('ix_item_discrepancies_driver_id'))

    op.drop_table('item_discrepancies')
    sa.Enum(name='discrepancy_kind').drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('disposition_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposition_rules_hub_id'))

    op.drop_table('disposition_rules')
    op.drop_table('recovery_rates')
