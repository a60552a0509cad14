"""Databases for the catalog's tests: an SQLite file, and a PostgreSQL database of the
suite's own (made on the machine's server and dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

#: The PostgreSQL server the suite makes its databases on (trust auth on these machines).
POSTGRES = os.environ.get("TRANSCODER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"transcoder_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL does not answer at {POSTGRES} (make test starts it): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'catalog.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    make = postgres_database() if request.param == "postgresql" else sqlite_database(tmp_path)
    with make as url:
        yield url


class PostgresServer:
    """A PostgreSQL server of a test's own (initdb in a temporary folder, a free port), so a
    trial can stop and start it without touching the machine's."""

    def __init__(self) -> None:
        import glob
        import tempfile

        from tests.support.processes import free_port

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            pytest.fail("PostgreSQL's programs are missing (make test installs Debian's postgresql)")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        # Under /tmp, not pytest's folder: the server runs as the postgres user, who must reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="transcoder-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/transcoder"
        self._as_owner(["chown", "-R", "postgres", str(self.folder)], root=True)
        self._as_owner([self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"])

    def _as_owner(self, command: list, root: bool = False) -> None:
        import subprocess

        command = [str(c) for c in command]
        if os.geteuid() == 0 and not root:
            command = ["runuser", "-u", "postgres", "--", *command]
        elif os.geteuid() != 0 and root:
            return  # not root: the folder is ours already, and so is the server
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_owner(
            [self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.folder / "log", "-w", "start"]
        )
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as db:
            if not db.execute("SELECT 1 FROM pg_database WHERE datname = 'transcoder'").fetchone():
                db.execute("CREATE DATABASE transcoder")

    def stop(self) -> None:
        """A fast shutdown: connections are cut, as when an operator restarts the server."""
        self._as_owner([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])

    def remove(self) -> None:
        import shutil

        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)
