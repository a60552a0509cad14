"""The catalog on SQLite and on PostgreSQL: migrations, records that never go back,
newest-first pages with a cursor, search, and processes that migrate at once."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, text

from tests.support.databases import database_url  # noqa: F401  (the fixture)
from tests.support.processes import ROOT
from transcoder.errors import InvalidInput
from transcoder.records import database
from transcoder.records.catalog import Base, Catalog


def snapshot(
    video_id: str, seq: int, state: str = "processing", created_at: float = 1.0, name: str = "a.mp4"
):
    rendition = {"name": "144p", "width": 256, "height": 144, "state": "running", "error": None}
    return {"id": video_id, "seq": seq, "state": state, "created_at": created_at, "filename": name,
            "source": {"duration": 5.0}, "renditions": [rendition]}  # fmt: skip


@pytest.fixture
def catalog(database_url):  # noqa: F811
    engine = database.make_engine(database_url)
    database.migrate(engine)
    yield Catalog(engine)
    engine.dispose()


def test_migrations_from_empty_make_the_tables_and_are_recorded(database_url):  # noqa: F811
    engine = database.make_engine(database_url)
    database.migrate(engine)
    database.migrate(engine)  # again: nothing to do
    names = set(inspect(engine).get_table_names())
    assert {"videos", "renditions", "users", "sessions", "api_keys", "uploads", "alembic_version"} <= names
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        # The migrations make exactly the schema the code's tables describe.
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from transcoder.records import account_rows, upload_rows  # noqa: F401  (their tables join the metadata)

        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert drift == [], drift
    engine.dispose()


def test_migrating_from_the_previous_revision_keeps_every_record_and_makes_it_searchable(
    database_url,  # noqa: F811
):
    engine = database.make_engine(database_url)
    database.migrate(engine, "0001")  # a catalog made by the previous version
    old = snapshot("b" * 32, 4, name="Été À LA Plage.MP4")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO videos (id, filename, state, created_at, updated_at, seq, duration, snapshot) "
                 "VALUES (:id, :filename, :state, 1.0, 1.0, 4, 5.0, :snapshot)"),
            {"id": old["id"], "filename": old["filename"], "state": "queued", "snapshot": json.dumps(old)},
        )  # fmt: skip
    database.migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
        assert connection.execute(text("SELECT name_key FROM videos")).scalar() == "été à la plage.mp4"
    kept = Catalog(engine)
    assert kept.get(old["id"]) == old
    assert [v["id"] for v in _page(kept, query="à LA plage").videos] == [old["id"]]
    engine.dispose()


def test_three_processes_migrating_at_once_apply_each_migration_once(database_url):  # noqa: F811
    code = (
        "import sys; from transcoder.records import database; "
        "database.migrate(database.make_engine(sys.argv[1]))"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, database_url], cwd=ROOT) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    engine = database.make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_a_record_never_goes_back_to_an_older_snapshot(catalog):
    assert catalog.record(snapshot("a" * 32, 3))
    assert not catalog.record(snapshot("a" * 32, 2, state="queued"))
    assert not catalog.record(snapshot("a" * 32, 3, state="queued"))
    done = snapshot("a" * 32, 9, state="ready")
    done["renditions"][0]["state"] = "ready"
    assert catalog.record(done)
    assert catalog.get("a" * 32)["state"] == "ready"
    assert catalog.unfinished() == []
    assert catalog.delete("a" * 32) and catalog.get("a" * 32) is None and not catalog.delete("a" * 32)


def test_pages_newest_first_filter_search_and_a_cursor_that_survives_inserts(catalog):
    for n in range(25):
        state = "ready" if n % 2 else "failed"
        catalog.record(
            snapshot(f"{n:032x}", 2, state=state, created_at=100.0 + n, name=f"Holiday {n} 100%.mp4")
        )
    first = _page(catalog, limit=10)
    assert [v["id"] for v in first.videos] == [f"{n:032x}" for n in range(24, 14, -1)]
    # New uploads at the head do not shift what the next page holds.
    catalog.record(snapshot("f" * 32, 2, created_at=500.0))
    second = _page(catalog, limit=10, cursor=first.next_cursor)
    assert [v["id"] for v in second.videos] == [f"{n:032x}" for n in range(14, 4, -1)]
    last = _page(catalog, limit=10, cursor=second.next_cursor)
    assert len(last.videos) == 5 and last.next_cursor is None
    assert {v["state"] for v in _page(catalog, state="failed", limit=50).videos} == {"failed"}
    assert [v["id"] for v in _page(catalog, query="holiday 7 ", limit=50).videos] == [f"{7:032x}"]
    assert len(_page(catalog, query="100%", limit=50).videos) == 25  # % is searched for, not a wildcard
    assert _page(catalog, query="_", limit=50).videos == []
    with pytest.raises(InvalidInput):
        _page(catalog, cursor="not-ours")


def _page(catalog, **query):
    """One library page as the API reads it: the ids, then their documents in that order."""
    ids, next_cursor = catalog.page_ids(**query)
    return SimpleNamespace(videos=catalog.get_many_ordered(ids), next_cursor=next_cursor)
