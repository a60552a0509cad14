"""The catalog: videos and their renditions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_videos"),
    )
    op.create_index("ix_videos_created", "videos", ["created_at", "id"])
    op.create_index("ix_videos_state_created", "videos", ["state", "created_at", "id"])
    op.create_table(
        "renditions",
        sa.Column("video_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name="fk_renditions_video_id_videos", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("video_id", "name", name="pk_renditions"),
    )


def downgrade() -> None:
    op.drop_table("renditions")
    op.drop_index("ix_videos_state_created", table_name="videos")
    op.drop_index("ix_videos_created", table_name="videos")
    op.drop_table("videos")
