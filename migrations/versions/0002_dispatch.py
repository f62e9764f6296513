"""dispatch: csv_imports, uploaded CSV files kept between preview and commit

Revision ID: 0002_dispatch
Revises: 0001_foundation
Create Date: 2026-11-24 21:48:07.104023

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_dispatch'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    # The commit reads the stored text, never a second upload; committed_at is set once.
    op.create_table('csv_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('encoding', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pickup_count', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_csv_imports_hub_id_hubs')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_csv_imports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csv_imports'))
    )
    with op.batch_alter_table('csv_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csv_imports_uploaded_by_id'), ['uploaded_by_id'], unique=False)



def downgrade():
    with op.batch_alter_table('csv_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csv_imports_uploaded_by_id'))

    op.drop_table('csv_imports')
