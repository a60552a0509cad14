"""Content-addressed sources: a row per (bytes, encoding settings, reuse scope) whose
outputs videos share, and each video's reference to one (``records/sources``).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("home", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sources")),
    )
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("content_key", sa.String(64), nullable=True))
        batch.create_index("ix_videos_content_key", ["content_key"])


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_index("ix_videos_content_key")
        batch.drop_column("content_key")
    op.drop_table("sources")
