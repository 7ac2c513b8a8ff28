"""learning_run: re-rankings learned from facilitators' decisions (flask matching learn)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade():
    # Read and checked by hand; the partial unique index keeps one active model per kind and engine.
    op.create_table('learning_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('engine_id', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('model_json', sa.Text(), nullable=True),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('held_back', sa.Integer(), nullable=False),
    sa.Column('current_ndcg', sa.Double(), nullable=True),
    sa.Column('learned_ndcg', sa.Double(), nullable=True),
    sa.Column('status', sa.Enum('active', 'retired', 'refused', name='learningstatus', native_enum=False,
                                create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_run'))
    )
    with op.batch_alter_table('learning_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_run_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_run_status'), ['status'], unique=False)
        batch_op.create_index('uq_learning_run_active', ['kind', 'engine_id'], unique=True,
                              sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade():
    with op.batch_alter_table('learning_run', schema=None) as batch_op:
        batch_op.drop_index('uq_learning_run_active')
        batch_op.drop_index(batch_op.f('ix_learning_run_status'))
        batch_op.drop_index(batch_op.f('ix_learning_run_created_at'))
    op.drop_table('learning_run')
