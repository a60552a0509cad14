"""An API key's right to create keys: none unless it was made with it (a stolen key
cannot make keys that outlive its own revocation).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        right: sa.Column[bool] = sa.Column(
            "may_create_keys", sa.Boolean(), nullable=False, server_default=sa.false()
        )
        batch.add_column(right)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("may_create_keys")
