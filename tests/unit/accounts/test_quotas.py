"""Quotas, decided without a database."""

import pytest

from transcoder.accounts.quotas import Usage, check, limits_of
from transcoder.accounts.users import User
from transcoder.errors import QuotaExceeded

GiB = 1024**3


def user(role="uploader", storage=None, daily=None) -> User:
    return User("u" * 32, "alice", role, 0.0, None, False, storage, daily)


def test_a_users_own_quota_replaces_the_setting_and_admins_have_none():
    assert limits_of(user(), 20 * GiB, 5 * GiB) == (20 * GiB, 5 * GiB)
    assert limits_of(user(storage=GiB, daily=0), 20 * GiB, 5 * GiB) == (GiB, 0)
    assert limits_of(user("admin"), 20 * GiB, 5 * GiB) == (0, 0)
    assert limits_of(user("admin", storage=GiB), 20 * GiB, 5 * GiB) == (GiB, 0)


def test_an_upload_that_fits_passes_and_one_that_would_pass_a_quota_says_why():
    check(Usage(stored=GiB, storage_quota=2 * GiB, uploaded_today=0, daily_quota=GiB), GiB)
    check(Usage(stored=99 * GiB, storage_quota=0, uploaded_today=99 * GiB, daily_quota=0), GiB)
    with pytest.raises(QuotaExceeded) as storage:
        check(Usage(stored=GiB, storage_quota=2 * GiB, uploaded_today=0, daily_quota=0), GiB + 1)
    assert "1.0 GiB used of 2.0 GiB" in storage.value.message and storage.value.code == "quota_exceeded"
    with pytest.raises(QuotaExceeded) as daily:
        check(
            Usage(stored=0, storage_quota=0, uploaded_today=3 * 1024**2, daily_quota=4 * 1024**2), 2 * 1024**2
        )
    assert "3.0 MiB uploaded in the last 24 hours of 4.0 MiB" in daily.value.message


def test_bytes_of_uploads_under_way_count_against_both_quotas():
    usage = Usage(stored=GiB, storage_quota=3 * GiB, uploaded_today=0, daily_quota=0)
    check(usage, GiB, in_flight=GiB)  # exactly full fits
    with pytest.raises(QuotaExceeded) as storage:
        check(usage, GiB, in_flight=GiB + 1)
    assert "2.0 GiB used of 3.0 GiB" in storage.value.message and "under way" in storage.value.message
    daily = Usage(stored=0, storage_quota=0, uploaded_today=GiB, daily_quota=2 * GiB)
    check(daily, GiB // 2, in_flight=GiB // 2)
    with pytest.raises(QuotaExceeded, match="daily upload quota"):
        check(daily, GiB // 2, in_flight=GiB // 2 + 1)
