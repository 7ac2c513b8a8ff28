"""facilitators: notifications, experiments with KPIs, buyer groups, expert pool

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:59:56.237586

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Read and checked by hand.
    op.create_table('buyer_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'confirmed', 'closed', name='buyergroupstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_buyer_group_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_group'))
    )
    with op.batch_alter_table('buyer_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyer_group_status'), ['status'], unique=False)

    op.create_table('expert_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('expertise', sa.Text(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('language', sa.Enum('nl', 'fr', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_expert_profile_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_profile')),
    sa.UniqueConstraint('user_id', name=op.f('uq_expert_profile_user_id'))
    )
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    op.create_table('buyer_group_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('invitation', sa.Enum('invited', 'joined', 'declined', name='invitationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_buyer_group_member_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['group_id'], ['buyer_group.id'], name=op.f('fk_buyer_group_member_group_id_buyer_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responded_by_id'], ['user_account.id'], name=op.f('fk_buyer_group_member_responded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buyer_group_member')),
    sa.UniqueConstraint('group_id', 'challenge_id', name=op.f('uq_buyer_group_member_group_id'))
    )
    with op.batch_alter_table('buyer_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buyer_group_member_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buyer_group_member_group_id'), ['group_id'], unique=False)

    op.create_table('expert_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=True),
    sa.Column('area', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('language', sa.Enum('nl', 'fr', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'assigned', 'answered', 'closed', name='questionstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('public_title', sa.String(length=200), nullable=True),
    sa.Column('public_question', sa.Text(), nullable=True),
    sa.Column('public_answer', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asked_by_id'], ['user_account.id'], name=op.f('fk_expert_question_asked_by_id_user_account')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['user_account.id'], name=op.f('fk_expert_question_assigned_by_id_user_account')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_expert_question_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['expert_id'], ['user_account.id'], name=op.f('fk_expert_question_expert_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_expert_question_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expert_question'))
    )
    with op.batch_alter_table('expert_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expert_question_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_question_published'), ['published'], unique=False)
        batch_op.create_index(batch_op.f('ix_expert_question_status'), ['status'], unique=False)

    op.create_table('experiment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('buyer_group_id', sa.Integer(), nullable=True),
    sa.Column('suggestion_id', sa.Integer(), nullable=True),
    sa.Column('hypothesis', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('budget', sa.Integer(), nullable=True),
    sa.Column('ip_terms', sa.Text(), nullable=True),
    sa.Column('equipment_terms', sa.Text(), nullable=True),
    sa.Column('data_terms', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'planned', 'running', 'evaluated', 'procurement', 'stopped', name='experimentstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decision', sa.Enum('go', 'no_go', name='decision', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('procurement_route', sa.Enum('market_consultation', 'pre_commercial', 'innovation_partnership', 'competitive_dialogue', 'competitive_negotiation', 'design_contest', 'negotiated_low_value', 'undecided', name='procurementroute', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('procurement_value', sa.Integer(), nullable=True),
    sa.Column('procurement_awarded', sa.Boolean(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR start_date <= end_date', name=op.f('ck_experiment_period')),
    sa.ForeignKeyConstraint(['buyer_group_id'], ['buyer_group.id'], name=op.f('fk_experiment_buyer_group_id_buyer_group')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_experiment_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_experiment_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['suggestion_id'], ['match_suggestion.id'], name=op.f('fk_experiment_suggestion_id_match_suggestion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment'))
    )
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_experiment_status'), ['status'], unique=False)

    op.create_table('question_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_question_message_author_id_user_account')),
    sa.ForeignKeyConstraint(['question_id'], ['expert_question.id'], name=op.f('fk_question_message_question_id_expert_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_message'))
    )
    with op.batch_alter_table('question_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_message_question_id'), ['question_id'], unique=False)

    op.create_table('experiment_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_experiment_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_event_experiment_id_experiment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_event'))
    )
    with op.batch_alter_table('experiment_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_event_experiment_id'), ['experiment_id'], unique=False)

    op.create_table('experiment_municipality',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_municipality_experiment_id_experiment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_experiment_municipality_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('experiment_id', 'organisation_id', name=op.f('pk_experiment_municipality'))
    )
    op.create_table('experiment_startup',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_startup_experiment_id_experiment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_experiment_startup_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('experiment_id', 'organisation_id', name=op.f('pk_experiment_startup'))
    )
    op.create_table('kpi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('baseline', sa.Double(), nullable=True),
    sa.Column('target', sa.Double(), nullable=False),
    sa.Column('higher_is_better', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_kpi_experiment_id_experiment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi'))
    )
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_experiment_id'), ['experiment_id'], unique=False)

    op.create_table('kpi_measurement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_kpi_measurement_kpi_id_kpi'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_kpi_measurement_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_measurement'))
    )
    with op.batch_alter_table('kpi_measurement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_measurement_kpi_id'), ['kpi_id'], unique=False)

    with op.batch_alter_table('match_suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=40), nullable=True))



def downgrade():
    # Read and checked by hand.
    with op.batch_alter_table('match_suggestion', schema=None) as batch_op:
        batch_op.drop_column('reason_code')

    with op.batch_alter_table('kpi_measurement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_measurement_kpi_id'))

    op.drop_table('kpi_measurement')
    with op.batch_alter_table('kpi', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_experiment_id'))

    op.drop_table('kpi')
    op.drop_table('experiment_startup')
    op.drop_table('experiment_municipality')
    with op.batch_alter_table('experiment_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_event_experiment_id'))

    op.drop_table('experiment_event')
    with op.batch_alter_table('question_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_message_question_id'))

    op.drop_table('question_message')
    with op.batch_alter_table('experiment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_status'))
        batch_op.drop_index(batch_op.f('ix_experiment_challenge_id'))

    op.drop_table('experiment')
    with op.batch_alter_table('expert_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expert_question_status'))
        batch_op.drop_index(batch_op.f('ix_expert_question_published'))
        batch_op.drop_index(batch_op.f('ix_expert_question_organisation_id'))

    op.drop_table('expert_question')
    with op.batch_alter_table('buyer_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buyer_group_member_group_id'))
        batch_op.drop_index(batch_op.f('ix_buyer_group_member_challenge_id'))

    op.drop_table('buyer_group_member')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))
        batch_op.drop_index(batch_op.f('ix_notification_created_at'))

    op.drop_table('notification')
    op.drop_table('expert_profile')
    with op.batch_alter_table('buyer_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buyer_group_status'))

    op.drop_table('buyer_group')
