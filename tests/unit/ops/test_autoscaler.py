import pytest

from transcoder.errors import ConfigError
from transcoder.ops.autoscaler import Autoscaler, desired


@pytest.mark.parametrize(
    ("waiting", "expected"),
    [(0, 1), (1, 1), (2, 1), (3, 2), (7, 4), (8, 4), (100, 4)],
)
def test_workers_follow_waiting_tasks_like_keda(waiting, expected):
    assert desired(waiting, minimum=1, maximum=4, per_worker=2) == expected


def test_scale_to_zero_is_allowed():
    assert desired(0, minimum=0, maximum=3, per_worker=5) == 0
    assert desired(1, minimum=0, maximum=3, per_worker=5) == 1


@pytest.mark.parametrize(("low", "high", "per"), [(2, 1, 1), (0, 0, 1), (1, 2, 0), (-1, 2, 1)])
def test_impossible_bounds_are_refused(low, high, per):
    with pytest.raises(ConfigError):
        Autoscaler(None, None, minimum=low, maximum=high, per_worker=per, waiting=lambda: 0)
