"""Users against both catalogs (SQLite, PostgreSQL): a sign-in that races a new password, and
names no user can have."""

from __future__ import annotations

from tests.support.databases import database_url  # noqa: F401  (the fixture)
from transcoder.accounts.users import Users
from transcoder.records import catalog, database


def users_of(url: str) -> Users:
    engine = database.make_engine(url)
    database.migrate(engine)
    return Users(catalog.Catalog(engine))


def test_a_password_changed_after_its_check_opens_no_session(database_url):  # noqa: F811
    """The race an outside attack found: a sign-in checked against the old password, whose
    session was added just after `transcoder users passwd` ended the user's sessions, kept
    the old password's access. The session is now added only while that password holds."""
    users = users_of(database_url)
    users.add("race", "the old password")
    checked = users.authenticate("race", "the old password")
    assert checked is not None
    users.change("race", password="the new password")
    assert users.open_session(checked) is None
    assert users.sessions_of("race") == []
    # Checked against the password the user still has: a session, which a new one ends.
    fresh = users.authenticate("race", "the new password")
    token = users.open_session(fresh)
    assert token and users.session_user(token, 3600) is not None
    users.change("race", disabled=True)
    assert users.open_session(fresh) is None


def test_a_name_no_user_can_have_is_refused_before_the_database(database_url):  # noqa: F811
    users = users_of(database_url)
    users.add("alice", "alice's password")
    for name in ("ali\x00ce", "alice\n", "\x00", "a" * 65, "ålice"):
        assert users.authenticate(name, "alice's password") is None, name
    assert users.authenticate("alice", "alice's password") is not None
