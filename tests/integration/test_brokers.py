"""The parts travel on RabbitMQ instead of Redis: a video goes from upload to ready with
every message on a RabbitMQ vhost of the test's own, while Redis keeps the rest (the
documents, leases, progress). The operators' tools read the queue from RabbitMQ, and a
broker URL that cannot be used is refused at start, with the setting named."""

import subprocess
from collections.abc import Iterator

import amqp
import pytest
import redis
import requests

from tests.brokers import queues_of, rabbitmq_vhost
from tests.processes import BIN, Processes, environment, free_port, start_web, start_worker
from tests.requests_to_api import upload, wait_terminal
from tests.system import REDIS_URL
from transcoder.errors import Unavailable
from transcoder.ops import broker
from transcoder.records import redis_keys

#: A Redis database of this module's own.
BROKER_TEST_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/4"


@pytest.fixture(scope="module")
def rabbitmq() -> Iterator[str]:
    with rabbitmq_vhost("test") as url:
        yield url


def test_a_video_travels_on_rabbitmq_and_redis_holds_no_message(rabbitmq, lavfi_clip, tmp_path):
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    client.flushdb()
    procs = Processes(tmp_path)
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", broker_url=rabbitmq)
    try:
        start_worker(procs, env, "rabbit")
        url = start_web(procs, env, "web")
        created = upload(url, lavfi_clip)
        assert created.status_code == 201, created.text
        video = wait_terminal(url, created.json()["id"])
        assert video["state"] == "ready", video
        ready = requests.get(f"{url}/readyz", timeout=10).json()
        assert ready["checks"]["broker"] == "ok", ready
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        assert 'transcoder_queue_depth{queue="parts"} 0.0' in metrics
        # Every message went through RabbitMQ: its vhost holds the queues, and Redis never held
        # a queue or its bindings.
        assert set(redis_keys.QUEUES) <= queues_of(rabbitmq)
        keys = [k.decode() for k in client.scan_iter()]
        assert not [k for k in keys if "kombu" in k or k.rsplit(":", 1)[-1] in redis_keys.QUEUES], keys
    finally:
        procs.stop_all()
        client.flushdb()


def test_a_broker_url_that_cannot_be_used_stops_the_worker_at_start(tmp_path):
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", broker_url="kafka://127.0.0.1:9092")
    done = subprocess.run([str(BIN / "celery"), "-A", "tasks", "worker", "--concurrency", "1"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0
    assert "TRANSCODER_BROKER_URL must start with redis://, rediss://, amqp:// or amqps://" in done.stderr


def test_the_depth_of_a_rabbitmq_queue_is_read_without_creating_one(rabbitmq):
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    with broker._rabbitmq(rabbitmq) as conn:
        channel = conn.channel()
        channel.queue_declare(queue="depth-probe", durable=False, auto_delete=False)
        for n in range(3):
            channel.basic_publish(amqp.Message(f"m{n}"), exchange="", routing_key="depth-probe")
        channel.close()
    assert broker.waiting(rabbitmq, client, ["depth-probe", "never-declared"]) == {
        "depth-probe": 3,
        "never-declared": 0,
    }
    assert "never-declared" not in queues_of(rabbitmq)
    broker.check(rabbitmq, client)
    with pytest.raises(Unavailable, match="does not answer"):
        broker.check(rabbitmq.replace(":5672/", f":{free_port()}/"), client)


def test_an_upload_while_rabbitmq_is_down_answers_503_and_leaves_nothing(lavfi_clip, tmp_path):
    """Nothing listens where the broker should be: the upload is refused whole, /readyz says why."""
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    client.flushdb()
    procs = Processes(tmp_path)
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}/nowhere"
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", broker_url=down)
    try:
        url = start_web(procs, env, "web")
        refused = upload(url, lavfi_clip)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        assert requests.get(f"{url}/api/videos", timeout=10).json()["videos"] == []
        assert not [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("unreachable")
    finally:
        procs.stop_all()
        client.flushdb()
