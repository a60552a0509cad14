from transcoder.accounts.throttle import MAX_DELAY_S, delay_after, sequential_start


def test_each_attempt_doubles_the_wait_up_to_a_ceiling_never_a_lock_out():
    assert [delay_after(n) for n in range(6)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert delay_after(1000) == MAX_DELAY_S == 8.0


def test_one_address_attempts_begin_as_if_sent_one_after_another():
    # The n-th attempt's turn, counted from the first's: five fit in the throttle's 8 s.
    assert [sequential_start(n) for n in range(1, 8)] == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 23.5]
    assert [n for n in range(1, 41) if sequential_start(n) <= MAX_DELAY_S] == [1, 2, 3, 4, 5]
    # 40 guesses take almost five minutes from one address, in a row or all at once.
    assert sequential_start(40) == 0.5 + 1 + 2 + 4 + 8 * 35
