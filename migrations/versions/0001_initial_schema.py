"""initial schema: organisations, users, challenges, profiles, applications, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 15:30:07.322801

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Read and checked by hand: tables, constraint names (naming convention) and indexes.
    op.create_table('municipality',
    sa.Column('nis_code', sa.String(length=5), nullable=False),
    sa.Column('name_nl', sa.String(length=120), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=True),
    sa.Column('province', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('nis_code', name=op.f('pk_municipality'))
    )
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_municipality_province'), ['province'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('municipality', 'startup', 'facilitator', name='orgkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('slug', sa.String(length=180), nullable=False),
    sa.Column('region', sa.Enum('antwerpen', 'limburg', 'oost_vlaanderen', 'vlaams_brabant', 'west_vlaanderen', 'brussels', 'wallonia', 'abroad', name='region', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('municipality_nis', sa.String(length=5), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_nis'], ['municipality.nis_code'], name=op.f('fk_organisation_municipality_nis_municipality')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('municipality_nis', name=op.f('uq_organisation_municipality_nis')),
    sa.UniqueConstraint('slug', name=op.f('uq_organisation_slug'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_kind'), ['kind'], unique=False)

    op.create_table('startup_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('tagline', sa.String(length=160), nullable=False),
    sa.Column('capabilities', sa.Text(), nullable=False),
    sa.Column('references', sa.Text(), nullable=True),
    sa.Column('maturity', sa.Enum('concept', 'prototype', 'pilot_ready', 'market_ready', 'scaling', name='maturity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('trl', sa.Integer(), nullable=True),
    sa.Column('team_size', sa.Integer(), nullable=True),
    sa.Column('language', sa.Enum('nl', 'fr', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('regions_served', sa.JSON(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('team_size IS NULL OR team_size >= 1', name=op.f('ck_startup_profile_team_size_positive')),
    sa.CheckConstraint('trl IS NULL OR (trl >= 1 AND trl <= 9)', name=op.f('ck_startup_profile_trl_range')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_startup_profile_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_startup_profile')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_startup_profile_organisation_id'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('municipality', 'startup', 'facilitator', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_audit_event_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('summary', sa.String(length=600), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('desired_outcome', sa.Text(), nullable=False),
    sa.Column('constraints', sa.Text(), nullable=True),
    sa.Column('evaluation_criteria', sa.Text(), nullable=True),
    sa.Column('budget_min', sa.Integer(), nullable=True),
    sa.Column('budget_max', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('language', sa.Enum('nl', 'fr', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('procurement_route', sa.Enum('market_consultation', 'pre_commercial', 'innovation_partnership', 'competitive_dialogue', 'competitive_negotiation', 'design_contest', 'negotiated_low_value', 'undecided', name='procurementroute', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'closed', 'in_experiment', 'completed', 'archived', name='challengestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max', name=op.f('ck_challenge_budget_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_challenge_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_challenge_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge'))
    )
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_status'), ['status'], unique=False)

    op.create_table('profile_theme',
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.Enum('mobility', 'climate_energy', 'environment_water', 'circular_economy', 'care_welfare', 'health', 'digital_services', 'safety', 'housing_planning', 'economy_employment', 'education', 'culture_leisure', name='theme', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['startup_profile.id'], name=op.f('fk_profile_theme_profile_id_startup_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('profile_id', 'theme', name=op.f('pk_profile_theme'))
    )
    op.create_table('application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('proposal', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'shortlisted', 'rejected', 'selected', 'withdrawn', name='applicationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decision_message', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_application_challenge_id_challenge')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_application_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_application_submitted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('challenge_id', 'organisation_id', name=op.f('uq_application_challenge_id'))
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_status'), ['status'], unique=False)

    op.create_table('challenge_theme',
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.Enum('mobility', 'climate_energy', 'environment_water', 'circular_economy', 'care_welfare', 'health', 'digital_services', 'safety', 'housing_planning', 'economy_employment', 'education', 'culture_leisure', name='theme', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenge.id'], name=op.f('fk_challenge_theme_challenge_id_challenge'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('challenge_id', 'theme', name=op.f('pk_challenge_theme'))
    )


def downgrade():
    # Read and checked by hand: tables, constraint names (naming convention) and indexes.
    op.drop_table('challenge_theme')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_status'))
        batch_op.drop_index(batch_op.f('ix_application_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_application_challenge_id'))

    op.drop_table('application')
    op.drop_table('profile_theme')
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_status'))
        batch_op.drop_index(batch_op.f('ix_challenge_organisation_id'))

    op.drop_table('challenge')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_organisation_id'))

    op.drop_table('user_account')
    op.drop_table('startup_profile')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_kind'))

    op.drop_table('organisation')
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_municipality_province'))

    op.drop_table('municipality')
