"""merge the assessment and decisions branches

Revision ID: 0007_merge
Revises: 0005_assessment, 0006_decisions
Create Date: 2026-11-25 11:00:00

Both capabilities were built at the same time on top of 0003_proposals; neither touches the
other's tables, so the merge has nothing to do but join the two branches.
"""

revision = "0007_merge"
down_revision = ("0005_assessment", "0006_decisions")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
