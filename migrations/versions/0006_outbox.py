"""outbox: effects that follow a committed change, run by the worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Read and checked by hand.
    op.create_table('outbox_effect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_effect'))
    )
    with op.batch_alter_table('outbox_effect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_effect_done_at'), ['done_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_effect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_effect_done_at'))
    op.drop_table('outbox_effect')
