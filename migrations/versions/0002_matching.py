"""matching: embeddings, index state, match suggestions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 15:40:53.014241

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Read and checked by hand.
    op.create_table('embedding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('engine_id', sa.String(length=120), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('n_passages', sa.Integer(), nullable=False),
    sa.Column('vectors', sa.LargeBinary(), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_embedding')),
    sa.UniqueConstraint('object_type', 'object_id', 'engine_id', name=op.f('uq_embedding_object_type'))
    )
    with op.batch_alter_table('embedding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_embedding_seq'), ['seq'], unique=False)

    op.create_table('index_state',
    sa.Column('engine_id', sa.String(length=120), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('engine_id', name=op.f('pk_index_state'))
    )
    op.create_table('match_suggestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('engine_id', sa.String(length=120), nullable=False),
    sa.Column('challenge_hash', sa.String(length=64), nullable=False),
    sa.Column('profile_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'rejected', 'needs_info', name='suggestionstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_match_suggestion_challenge_id_challenge'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profile_id'], ['startup_profile.id'], name=op.f('fk_match_suggestion_profile_id_startup_profile'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_match_suggestion_reviewer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_suggestion')),
    sa.UniqueConstraint('challenge_id', 'profile_id', name=op.f('uq_match_suggestion_challenge_id'))
    )
    with op.batch_alter_table('match_suggestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_suggestion_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_suggestion_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_suggestion_status'), ['status'], unique=False)



def downgrade():
    # Read and checked by hand.
    with op.batch_alter_table('match_suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_suggestion_status'))
        batch_op.drop_index(batch_op.f('ix_match_suggestion_profile_id'))
        batch_op.drop_index(batch_op.f('ix_match_suggestion_challenge_id'))

    op.drop_table('match_suggestion')
    op.drop_table('index_state')
    with op.batch_alter_table('embedding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embedding_seq'))

    op.drop_table('embedding')
