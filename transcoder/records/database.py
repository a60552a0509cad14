"""The database the catalog lives in: an engine per process, and its schema brought up to date.

SQLite is the embedded default (one file, nothing to run); PostgreSQL (psycopg 3) serves
several machines. Each is set up for several processes writing at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

from transcoder.errors import ConfigError


def make_engine(url: str) -> Engine:
    """An engine for one process (make it after a fork, never before)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5.0}, json_deserializer=orjson.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        # The driver's own transaction handling is off; writes start with BEGIN IMMEDIATE,
        # so two processes never both read and then fail to write ("database is locked").
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if url.startswith("postgresql"):
        # A short connect timeout: a database that is down must answer 503 in seconds.
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            connect_args={"connect_timeout": 3},
            json_deserializer=orjson.loads,
        )
    raise ConfigError(
        f"TRANSCODER_DATABASE_URL must be sqlite:///… or postgresql+psycopg://…, not {url.split(':')[0]!r}."
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


#: PostgreSQL advisory lock key held while migrating, so processes that start together
#: apply each migration once (Alembic has no lock of its own).
MIGRATION_LOCK = 0x7472616E  # "tran"


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest revision; safe when several processes do it at once.

    One transaction holds the database's write lock (SQLite: BEGIN IMMEDIATE) or an
    advisory lock (PostgreSQL): the others wait, then find nothing left to apply.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "transcoder.records:migrations")
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
