"""A flood of sign-ins does not take the web process down or stall it, and parallel guesses
are counted as they start (docs/security.md, "Sign-in floods").

One web process of its own (real gunicorn, gevent worker) with accounts on, behind one
trusted proxy so that each flooding request can come from an address of its own (the
throttle then waits for none of them: only the in-flight bound and the hashing pool are
tried). gevent's monitor thread reports any moment its hub is held for more than 0.1 s,
with the stack that held it: hashing on the loop shows up there as argon2's stack.
"""

from __future__ import annotations

import re
import time

import pytest
import redis

from tests.support.accounts import PASSWORDS, make_users, operator
from tests.support.floods import Probe, Stream, one_sign_in, release, sign_in_request, worker_pid
from tests.support.processes import Processes, environment, start_web, wait_for
from tests.support.system import REDIS_URL

FLOOD = 320
IN_FLIGHT = 16
#: Event streams opened at once by one client: more than a Redis pool's 100 connections.
STREAMS = 250


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    root = tmp_path_factory.mktemp("flood")
    url = REDIS_URL.rsplit("/", 1)[0] + "/8"
    client = redis.Redis.from_url(url)
    client.flushdb()
    processes = Processes(root)
    env = environment(url, root / "storage", auth="on", trusted_proxies="1",
                      sign_ins_in_flight=str(IN_FLIGHT), streams_per_client=str(2 * STREAMS))  # fmt: skip
    env.update(GEVENT_MONITOR_THREAD_ENABLE="true", GEVENT_MAX_BLOCKING_TIME="0.1")
    try:
        web = start_web(processes, env, "flood-web")
        make_users(env)
        key = operator(env, "keys", "create", "--user", "alice", "--name", "streams").strip().splitlines()[-1]
        master = processes.by_name["flood-web"].pid
        yield web, key, master, root / "flood-web.log", client
    finally:
        processes.stop_all()
        client.flushdb()


def test_a_flood_of_sign_ins_leaves_the_process_its_streams_and_healthz_alone(gate):
    url, key, master, log, _ = gate
    worker = worker_pid(master)
    streams = [Stream(url, {"Authorization": f"Bearer {key}"}).start() for _ in range(4)]
    for stream in streams:
        assert stream.opened.wait(30)
    addresses = [f"10.30.{n // 250}.{n % 250 + 1}" for n in range(FLOOD)]
    wanted = [sign_in_request(url, f"nobody-{n}", "wrong", address) for n, address in enumerate(addresses)]
    with Probe(url) as probe:
        wait_for(lambda: probe.answers, 30, "a first /healthz")
        answers = release(url, wanted)
        ended = time.monotonic()
    statuses = sorted({a.status for a in answers})
    assert set(statuses) <= {401, 429}, statuses  # every one answered: no reset, no 5xx
    refused = [a for a in answers if a.status == 429]
    # Past the bound: refused at once, before any hashing, and told when to come back.
    assert len(refused) >= FLOOD - 2 * IN_FLIGHT, statuses
    assert all(a.code == "too_many_sign_ins" and int(a.retry_after) >= 1 for a in refused)
    # /healthz answered every time it was asked, all through the flood.
    assert probe.answers and all(status == 200 for status, _ in probe.answers), probe.answers
    # The same worker, never timed out, and the streams open before the flood still deliver.
    assert worker_pid(master) == worker
    text = log.read_text(errors="replace")
    assert "WORKER TIMEOUT" not in text
    wait_for(lambda: all(s.keepalives and s.keepalives[-1] > ended for s in streams), 30, "keep-alives after")
    assert not any(s.closed for s in streams)
    # The hub was never held by a password check (gevent's monitor prints who held it).
    held = held_by_sign_in(text)
    assert not held, held[0][:3000]


def held_by_sign_in(log_text: str) -> list[str]:
    """gevent monitor's reports of the hub held in a sign-in: its password check or its wait.
    A report gives the hub thread's stack first, then every other thread's (the hashing
    pool's among them), from "* Threads" on: only the hub's counts."""
    reports = [r.split("* Threads")[0] for r in log_text.split("appears to be blocked")[1:]]
    held = re.compile(r"in verify\b|in hash_password\b|time\.sleep\(turn")  # argon2's, or an unpatched sleep
    return [report for report in reports if held.search(report)]


def test_parallel_guesses_are_counted_as_they_start(gate):
    url, _, _, log, client = gate
    client.delete(*(client.keys("*sign-in-failures*") or ["-"]))
    guesses = [sign_in_request(url, "root", f"guess {n}") for n in range(40)]  # all from 127.0.0.1
    answers = release(url, guesses)
    throttled = [a for a in answers if a.status == 429 and a.code == "too_many_attempts"]
    checked = [a for a in answers if a.status == 401]
    # One address's guesses are spaced as if sent in a row (0.5, 1, 2, 4 s...): five fit in
    # the throttle's 8 s; the rest are told when to come back, as sequential ones would wait.
    assert len(checked) <= 5 and len(throttled) >= 10, sorted((a.status, a.code) for a in answers)
    assert all(int(a.retry_after) >= 1 for a in throttled)
    # Never a lock-out: the right password, tried when told, still gets in.
    right = sign_in_request(url, "root", PASSWORDS["root"])

    def signed_in() -> bool:
        answer = one_sign_in(url, right)
        if answer.status == 429:
            time.sleep(min(int(answer.retry_after), 8))  # as it was told to: what is tried here
        return answer.status == 302

    wait_for(signed_in, 60, "root signs in after the guesses")
    # The throttle's waits held nothing but their own greenlets (gevent's sleep).
    held = held_by_sign_in(log.read_text(errors="replace"))
    assert not held, held[0][:3000]


def test_the_throttle_spaces_one_address_and_slows_but_never_refuses_an_account(gate):
    from transcoder.accounts.throttle import MAX_DELAY_S, Throttle, sequential_start

    client = gate[4]
    throttle = Throttle(client)
    first, turns = time.monotonic(), []
    for _ in range(8):
        turns.append((throttle.begin("carol", "10.9.9.9"), time.monotonic()))
    admitted = [(t, answered) for t, answered in turns if not t.refused]
    assert len(admitted) == 5, turns
    # Each waits until the start it would have had in a row, counted from the first attempt:
    # the time the calls themselves took (long on a busy machine) is already behind it.
    for n, (t, answered) in enumerate(admitted, 1):
        expected = sequential_start(n)
        assert expected - (answered - first) - 0.01 <= t.wait_s <= expected + 0.01, (n, t)
    turns = [t for t, _ in turns]
    assert all(t.refused and 1 <= t.retry_after_s <= MAX_DELAY_S for t in turns[5:])
    # From other addresses the same account waits (five attempts began on it), never refused.
    others = [throttle.begin("Carol", f"10.9.8.{n}") for n in range(3)]
    assert [(t.refused, t.wait_s) for t in others] == [(False, MAX_DELAY_S)] * 3
    throttle.succeeded("carol", "10.9.9.9")
    assert throttle.begin("carol", "10.9.9.9").wait_s == 0.0


def test_guesses_at_one_account_from_many_addresses_are_counted_against_it(gate):
    """Through the web app, each sign-in is counted against the account it names as well as
    against its address: guesses spread over addresses, each new to the throttle, wait
    longer and longer, and the account's next attempt, from yet another address, waits too."""
    from transcoder.accounts.throttle import Throttle, delay_after

    url, client = gate[0], gate[4]
    answers = [
        one_sign_in(url, sign_in_request(url, "dana", f"guess {n}", f"10.50.0.{n + 1}")) for n in range(3)
    ]
    assert [a.status for a in answers] == [401] * 3
    assert answers[2].took_s >= delay_after(2)  # its address was new: it waited for the account
    assert Throttle(client).begin("Dana", "10.50.1.1").wait_s == delay_after(3)


def test_sign_ins_whose_bodies_never_come_hold_no_place(gate):
    """The attack that locked everyone out: more posts to /signin than the gate has places,
    from one address, each announcing a form and sending only its start. Each used to hold
    its place while its body was awaited (until the slow-upload watch cut it, 30 s later);
    now a place is taken only for the password check, and alice signs in meanwhile."""
    import socket
    from urllib.parse import urlsplit

    url = gate[0]
    where = (urlsplit(url).hostname, urlsplit(url).port)
    head = ("POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 10.40.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
            "name=alice&password=")  # fmt: skip
    holders = [socket.create_connection(where, timeout=60) for _ in range(IN_FLIGHT + 4)]
    try:
        for conn in holders:
            conn.sendall(head.encode())
        for n in range(3):  # one after another: the holders are all being read by the last
            answer = one_sign_in(url, sign_in_request(url, "alice", PASSWORDS["alice"], f"10.40.1.{n}"))
            assert answer.status == 302, (n, answer)
    finally:
        for conn in holders:
            conn.close()


def test_event_streams_opened_all_at_once_are_all_served(gate):
    """Found by an outside attack: 250 event streams opened at once with one key got 53 to
    137 answers 503 ("Redis cannot be reached") from a healthy Redis: the web process's
    Redis pool refused its 101st connection. Now a command waits for a connection."""
    import socket
    import threading
    from urllib.parse import urlsplit

    url, key = gate[0], gate[1]
    where = (urlsplit(url).hostname, urlsplit(url).port)
    request = f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
    statuses: list[int] = []
    conns: list[socket.socket] = []
    start = threading.Barrier(STREAMS)

    def open_one() -> None:
        conn = socket.create_connection(where, timeout=60)
        conns.append(conn)
        start.wait()
        conn.sendall(request)
        head = b""
        while b"\r\n" not in head and (chunk := conn.recv(1024)):
            head += chunk
        statuses.append(int(head.split()[1]) if head else 0)

    threads = [threading.Thread(target=open_one) for _ in range(STREAMS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for conn in conns:
            conn.close()
    assert sorted(set(statuses)) == [200] and len(statuses) == STREAMS, sorted(statuses)[:20]
