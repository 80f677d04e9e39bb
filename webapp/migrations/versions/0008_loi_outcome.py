"""letters of intent: the programme manager's outcome (shortlisted or not) and its message

Revision ID: 0008_loi_outcome
Revises: 0007_merge
Create Date: 2026-11-25 12:40:00

"""
from alembic import op
import sqlalchemy as sa
import webapp.models.types  # noqa: F401  (UTCDateTime)


revision = '0008_loi_outcome'
down_revision = '0007_merge'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('loi_feedback', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(
            sa.Column('loi_decided_at', webapp.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('loi_decided_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_proposal_loi_decided_by_id_user'), 'user', ['loi_decided_by_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_loi_decided_by_id_user'), type_='foreignkey')
        batch_op.drop_column('loi_decided_by_id')
        batch_op.drop_column('loi_decided_at')
        batch_op.drop_column('loi_feedback')
