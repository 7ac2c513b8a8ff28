"""experiment invitations

An organisation added to an experiment is invited first and becomes a party once it accepts.
Each participation row gets a state; the rows that exist already are parties, so they become
accepted (the server default). Downgrading removes the invitations and declines, which the
old schema would read as parties.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = ('experiment_startup', 'experiment_municipality')
STATES = ('invited', 'accepted', 'declined')


def upgrade():
    # Written and checked by hand.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(
                'state', sa.Enum(*STATES, name='participationstate', native_enum=False, create_constraint=True,
                                 length=32),
                server_default='accepted', nullable=False))
            batch_op.add_column(sa.Column('invited_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_invited_by_id_user_account'), 'user_account',
                                        ['invited_by_id'], ['id'])


def downgrade():
    # Written and checked by hand.
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE state <> 'accepted'"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_invited_by_id_user_account'), type_='foreignkey')
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_participationstate'), type_='check')
            batch_op.drop_column('decided_at')
            batch_op.drop_column('invited_at')
            batch_op.drop_column('invited_by_id')
            batch_op.drop_column('state')
