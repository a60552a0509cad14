"""The store of unfinished uploads' URLs that lets a second `transcoder submit` resume."""

import json
import time

from transcoder.upload_urls import KEEP_SECONDS, UrlStore, default_path, key, key_of, pruned


def test_store_lives_in_the_users_cache_folder():
    assert str(default_path({"XDG_CACHE_HOME": "/c", "HOME": "/h"})) == "/c/transcoder/uploads.json"
    assert str(default_path({"HOME": "/h"})) == "/h/.cache/transcoder/uploads.json"
    assert str(default_path({"XDG_CACHE_HOME": "", "HOME": "/h"})) == "/h/.cache/transcoder/uploads.json"


def test_key_names_the_file_its_version_and_the_server():
    one = key("/v/a.mp4", 10, 5, "http://h:8000/")
    assert one == key("/v/a.mp4", 10, 5, "http://h:8000")
    others = [("/v/b.mp4", 10, 5, "http://h:8000"), ("/v/a.mp4", 11, 5, "http://h:8000"),
              ("/v/a.mp4", 10, 6, "http://h:8000"), ("/v/a.mp4", 10, 5, "http://g:8000")]  # fmt: skip
    assert len({one, *(key(*o) for o in others)}) == 5


def test_key_of_a_file_changes_when_it_is_written(tmp_path):
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"one")
    before = key_of(clip, "http://h")
    assert json.loads(before)[0] == str(clip.resolve())
    clip.write_bytes(b"other")
    assert key_of(clip, "http://h") != before


def test_old_and_malformed_entries_are_dropped():
    now = 1e9
    entries = {"fresh": {"url": "u", "at": now - 10}, "old": {"url": "u", "at": now - KEEP_SECONDS - 1},
               "no url": {"at": now}, "no time": {"url": "u"}, "junk": 3}  # fmt: skip
    assert pruned(entries, now) == {"fresh": {"url": "u", "at": now - 10}}


def test_put_get_forget_round_trip(tmp_path):
    store = UrlStore(tmp_path / "cache" / "transcoder" / "uploads.json")
    assert store.get("k") is None
    store.put("k", "http://h/api/uploads/1")
    store.put("j", "http://h/api/uploads/2")
    assert UrlStore(store.path).get("k") == "http://h/api/uploads/1"
    store.forget("k")
    store.forget("k")  # harmless twice
    assert store.get("k") is None and store.get("j") == "http://h/api/uploads/2"
    assert [p.name for p in store.path.parent.iterdir()] == ["uploads.json"]  # no temporary left


def test_unreadable_store_is_empty_and_is_replaced(tmp_path):
    path = tmp_path / "uploads.json"
    path.write_text("{not json")
    store = UrlStore(path)
    assert store.get("k") is None
    store.put("k", "u")
    assert json.loads(path.read_text())["k"]["url"] == "u"
    assert time.time() - json.loads(path.read_text())["k"]["at"] < 60
