"""The parts travel on RabbitMQ or SQS instead of Redis: videos go from upload to ready with
every message on a vhost or queues of the test's own, each part run once, while Redis keeps
the rest (the documents, leases, progress). The operators' tools read the queue from the
broker, and a broker that cannot be used is refused at start, with the setting named."""

import subprocess
from collections.abc import Iterator

import amqp
import pytest
import redis
import requests

from tests.support.brokers import broker_settings, queues_of, sqs_client, sqs_queues
from tests.support.processes import BIN, Processes, environment, free_port, start_web, start_worker, wait_for
from tests.support.proxy import Relay
from tests.support.requests_to_api import upload, wait_terminal
from tests.support.system import REDIS_URL, each_part_ran_once
from transcoder import brokers
from transcoder.errors import ConfigError, Unavailable
from transcoder.records import redis_keys
from transcoder.settings import Settings

#: A Redis database of this module's own.
BROKER_TEST_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/4"
BROKERS = ["rabbitmq", "sqs"]


@pytest.fixture(params=BROKERS)
def on_broker(request, sqs_endpoint) -> Iterator[dict[str, str]]:
    """The settings of an installation whose messages travel on each broker in turn."""
    with broker_settings(request.param, "test", sqs_endpoint) as settings:
        yield settings


def queues_on(settings: dict[str, str]) -> set[str]:
    if settings["broker_url"].startswith("sqs://"):
        return sqs_queues(settings["sqs_endpoint_url"], settings["sqs_queue_prefix"])
    return queues_of(settings["broker_url"])


def test_videos_travel_on_the_broker_each_part_run_once(on_broker, lavfi_clip, tmp_path):
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    client.flushdb()
    procs = Processes(tmp_path)
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", sweep_seconds="1", **on_broker)
    try:
        # An encoding-only worker, as an operator starts one (`make worker QUEUES=parts`).
        start_worker(procs, env, "one", "--queues", redis_keys.PARTS_QUEUE)
        start_worker(procs, env, "two")
        # The Redis emptied above is taken for one that lost its state until a sweep has
        # looked: a sweep after the uploads would send their queued parts again.
        wait_for(lambda: client.exists(redis_keys.LOADED), 30, "the workers' first sweep")
        workers = {"one", "two"}
        banner = (tmp_path / "one.log").read_text().split("[queues]")[1].split("[tasks]")[0]
        # On SQS the urgent parts have a queue of their own, which it takes with the parts.
        sqs = on_broker["broker_url"].startswith("sqs://")
        taken = {line.split()[1] for line in banner.splitlines() if line.strip().startswith(".>")}
        assert taken == (
            {redis_keys.URGENT_QUEUE, redis_keys.PARTS_QUEUE} if sqs else {redis_keys.PARTS_QUEUE}
        )
        url = start_web(procs, env, "web")
        ids = []
        for _ in range(2):
            created = upload(url, lavfi_clip)
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        videos = [wait_terminal(url, video_id) for video_id in ids]
        assert [v["state"] for v in videos] == ["ready", "ready"], videos

        assert {name.split("@")[0] for name in each_part_ran_once(client, ids, env)} == workers
        ready = requests.get(f"{url}/readyz", timeout=10).json()
        assert ready["checks"]["broker"] == "ok", ready
        metrics = requests.get(f"{url}/metrics", timeout=10).text
        assert 'transcoder_queue_depth{queue="parts"} 0.0' in metrics
        # Every message went through the broker: it holds the queues, and Redis never held
        # a queue or its bindings.
        assert set(brokers.of(Settings(**on_broker)).queues()) <= queues_on(on_broker)
        keys = [k.decode() for k in client.scan_iter()]
        assert not [k for k in keys if "kombu" in k or k.rsplit(":", 1)[-1] in redis_keys.QUEUES], keys
    finally:
        procs.stop_all()
        client.flushdb()


def test_the_depth_of_a_rabbitmq_queue_is_read_without_creating_one(sqs_endpoint):
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    with broker_settings("rabbitmq", "depth") as on_rabbitmq:
        settings = Settings(broker_url=on_rabbitmq["broker_url"])
        rabbitmq = brokers.of(settings)
        with rabbitmq.connect() as conn:
            channel = conn.channel()
            channel.queue_declare(queue="depth-probe", durable=False, auto_delete=False)
            for n in range(3):
                channel.basic_publish(amqp.Message(f"m{n}"), exchange="", routing_key="depth-probe")
            channel.close()
        assert rabbitmq.waiting(client, ["depth-probe", "never-declared"]) == {
            "depth-probe": 3,
            "never-declared": 0,
        }
        assert "never-declared" not in queues_of(settings.broker_url)
        rabbitmq.check(client)
        wrong = Settings(broker_url=settings.broker_url.replace("guest:guest@", "guest:wrong@"))
        with pytest.raises(
            ConfigError, match="BROKER_URL=amqp://guest:\\*\\*\\*@.* refused the user and password"
        ):
            brokers.of(wrong).require(client)
    elsewhere = Settings(broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/x")
    with pytest.raises(Unavailable, match="does not answer"):
        brokers.of(elsewhere).check(client)


def test_the_depth_of_an_sqs_queue_is_read_without_creating_one(sqs_endpoint):
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    with broker_settings("sqs", "depth", sqs_endpoint) as on_sqs:
        settings = Settings(**on_sqs)
        sqs = sqs_client(sqs_endpoint)
        queue_url = sqs.create_queue(QueueName=settings.sqs_queue_prefix + "depth-probe")["QueueUrl"]
        for n in range(3):
            sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{n}")
        assert brokers.of(settings).waiting(client, ["depth-probe", "never-made"]) == {
            "depth-probe": 3,
            "never-made": 0,
        }
        assert sqs_queues(sqs_endpoint, settings.sqs_queue_prefix) == {"depth-probe"}
        brokers.of(settings).check(client)
    elsewhere = Settings(**{**on_sqs, "sqs_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(Unavailable, match="does not answer"):
        brokers.of(elsewhere).check(client)


def relayed(settings: dict[str, str], relay: Relay) -> dict[str, str]:
    """The same broker, reached through ``relay``."""
    if settings["broker_url"].startswith("sqs://"):
        return {**settings, "sqs_endpoint_url": f"http://127.0.0.1:{relay.port}"}
    return {**settings, "broker_url": settings["broker_url"].replace(":5672/", f":{relay.port}/")}


def test_an_upload_while_the_broker_is_down_answers_503_and_leaves_nothing(on_broker, lavfi_clip, tmp_path):
    """The broker goes out of reach after the web app started: the upload is refused whole,
    and /readyz says why."""
    client = redis.Redis.from_url(BROKER_TEST_REDIS)
    client.flushdb()
    procs = Processes(tmp_path)
    sqs = on_broker["broker_url"].startswith("sqs://")
    port = int(on_broker["sqs_endpoint_url"].rsplit(":", 1)[1]) if sqs else 5672
    relay = Relay(("127.0.0.1", port), bind="127.0.0.1")
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", **relayed(on_broker, relay))
    try:
        url = start_web(procs, env, "web")
        relay.down()
        refused = upload(url, lavfi_clip)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        assert requests.get(f"{url}/api/videos", timeout=10).json()["videos"] == []
        assert not [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("unreachable")
    finally:
        relay.down()
        procs.stop_all()
        client.flushdb()


def nothing_answers(kind: str, endpoint: str) -> dict[str, str]:
    if kind == "rabbitmq":
        return {"broker_url": f"amqp://guest:secret@127.0.0.1:{free_port()}/nowhere"}
    return {"broker_url": "sqs://key:secret@", "sqs_endpoint_url": f"http://127.0.0.1:{free_port()}"}


@pytest.mark.parametrize("kind", BROKERS)
def test_a_broker_that_does_not_answer_stops_the_worker_and_the_web_app_at_start(
    kind, sqs_endpoint, tmp_path
):
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", **nothing_answers(kind, sqs_endpoint))
    worker = subprocess.run([str(BIN / "celery"), "-A", "tasks", "worker", "--concurrency", "1"], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert worker.returncode != 0
    line = next(x for x in worker.stderr.splitlines() if x.startswith("TRANSCODER_BROKER_URL="))
    assert "cannot be used: The broker does not answer" in line
    assert "secret" not in line  # the password is not printed
    bind = f"127.0.0.1:{free_port()}"
    argv = [str(BIN / "gunicorn"), "-c", "python:web.server", "--bind", bind, "web:create_app()"]
    web = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert web.returncode != 0
    assert "TRANSCODER_BROKER_URL=" in web.stderr and "cannot be used" in web.stderr
    run = subprocess.run([str(BIN / "python"), "-m", "transcoder.brokers"], env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert run.returncode == 1 and run.stderr.startswith("TRANSCODER_BROKER_URL=")


def test_sqs_without_credentials_is_refused_at_start_naming_the_setting(sqs_endpoint, tmp_path):
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", broker_url="sqs://",
                      sqs_endpoint_url=sqs_endpoint)  # fmt: skip
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    env.update(AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent",
               AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    run = subprocess.run([str(BIN / "python"), "-m", "transcoder.brokers"], env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.startswith("TRANSCODER_BROKER_URL is sqs:// but no AWS credentials were found"), (
        run.stderr
    )


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"broker_url": "kafka://127.0.0.1:9092"}, "BROKER_URL must start with"),
        ({"broker_url": "sqs://", "task_time_limit": 12 * 3600}, "TASK_TIME_LIMIT must be at most 42540 s"),
        ({"broker_url": "sqs://", "sqs_queue_prefix": "my.queues"}, "SQS_QUEUE_PREFIX may hold only"),
    ],
)
def test_a_broker_setting_that_cannot_work_stops_the_worker_at_start(settings, refusal, tmp_path):
    env = environment(BROKER_TEST_REDIS, tmp_path / "storage", **{k: str(v) for k, v in settings.items()})
    done = subprocess.run([str(BIN / "celery"), "-A", "tasks", "worker", "--concurrency", "1"], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0
    assert refusal in done.stderr
    with pytest.raises(ConfigError, match=refusal):
        Settings(**settings).validate()
