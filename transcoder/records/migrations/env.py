"""Alembic's entry point: migrations run on the connection ``database.migrate`` hands over,
inside its transaction (and, on PostgreSQL, under its advisory lock)."""

from alembic import context

from transcoder.records import account_rows, upload_rows  # noqa: F401  (their tables join the metadata)
from transcoder.records.catalog import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
