"""Resumable uploads (tus) under way: owner, length, offset, expiry, where the bytes
gather, and the video the last byte made.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resumable_uploads",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("staging", sa.JSON(), nullable=False),
        sa.Column("video_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_resumable_uploads"),
    )
    op.create_index("ix_resumable_uploads_expires_at", "resumable_uploads", ["expires_at"])
    op.create_index("ix_resumable_uploads_owner_id", "resumable_uploads", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_resumable_uploads_owner_id", table_name="resumable_uploads")
    op.drop_index("ix_resumable_uploads_expires_at", table_name="resumable_uploads")
    op.drop_table("resumable_uploads")
