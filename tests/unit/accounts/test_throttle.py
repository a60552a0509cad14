from transcoder.accounts.throttle import MAX_DELAY_S, delay_after


def test_each_failure_doubles_the_wait_up_to_a_ceiling_never_a_lock_out():
    assert [delay_after(n) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert delay_after(1000) == MAX_DELAY_S == 8.0
