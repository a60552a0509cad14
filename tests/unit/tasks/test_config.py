from tasks.config import CLOSE_TASK, PART_TASK, celery_config
from transcoder.records import redis_keys
from transcoder.records.redis_keys import FINALIZE_QUEUE, PARTS_QUEUE
from transcoder.settings import Settings


def test_limits_are_ordered_so_a_healthy_run_is_never_redelivered():
    conf = celery_config(Settings.from_env({}, task_time_limit=1800))
    visibility = conf["broker_transport_options"]["visibility_timeout"]
    assert conf["task_soft_time_limit"] == 1800
    assert conf["task_soft_time_limit"] < conf["task_time_limit"] < visibility
    assert (
        visibility
        == conf["result_backend_transport_options"]["visibility_timeout"]
        == conf["visibility_timeout"]
    )


def test_delivery_settings_for_long_idempotent_tasks():
    conf = celery_config(Settings.from_env({}))
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    # A broker blink must not kill running encodes: the lease keeps a re-delivered copy idle.
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"] is False
    assert conf["result_expires"] > redis_keys.FLAG_TTL


def test_encodes_and_short_work_use_separate_declared_queues():
    conf = celery_config(Settings.from_env({"TRANSCODER_REDIS_URL": "redis://h:1/3"}))
    assert conf["broker_url"] == conf["result_backend"] == "redis://h:1/3"
    assert {q.name for q in conf["task_queues"]} == {FINALIZE_QUEUE, PARTS_QUEUE}
    assert conf["task_routes"][PART_TASK] == {"queue": PARTS_QUEUE}
    assert conf["task_routes"][CLOSE_TASK] == {"queue": FINALIZE_QUEUE}
    assert conf["task_create_missing_queues"] is False


def test_each_queue_has_its_own_exchange_and_key():
    queues = celery_config(Settings.from_env({}))["task_queues"]
    assert {(q.name, q.exchange.name, q.routing_key) for q in queues} == {
        (FINALIZE_QUEUE, FINALIZE_QUEUE, FINALIZE_QUEUE),
        (PARTS_QUEUE, PARTS_QUEUE, PARTS_QUEUE),
    }


def test_on_rabbitmq_the_messages_move_and_the_results_stay_in_redis():
    rabbit = "amqp://guest:guest@127.0.0.1:5672/transcoder"
    conf = celery_config(Settings.from_env({"TRANSCODER_BROKER_URL": rabbit}))
    assert conf["broker_url"] == rabbit and conf["result_backend"] == "redis://127.0.0.1:6379/0"
    # Real acknowledgements: no visibility timeout, and every message confirmed stored.
    assert conf["broker_transport_options"] == {"confirm_publish": True}
    assert conf["task_acks_late"] and conf["worker_prefetch_multiplier"] == 1


def test_on_sqs_the_endpoint_joins_the_keys_in_the_url_and_a_dead_workers_messages_soon_show():
    conf = celery_config(
        Settings.from_env(
            {
                "TRANSCODER_BROKER_URL": "sqs://AKIA:s%2Fcret@",
                "TRANSCODER_SQS_ENDPOINT_URL": "http://127.0.0.1:4566",
                "TRANSCODER_SQS_REGION": "eu-west-1",
                "TRANSCODER_SQS_QUEUE_PREFIX": "video-",
                "TRANSCODER_TASK_TIME_LIMIT": "3600",
            }
        )
    )
    assert conf["broker_url"] == "sqs://AKIA:s%2Fcret@127.0.0.1:4566"
    options = conf["broker_transport_options"]
    assert options["region"] == "eu-west-1" and options["queue_name_prefix"] == "video-"
    assert options["is_secure"] is False
    # A message shows again a lease's length after its worker stopped renewing it.
    assert options["visibility_timeout"] == 30 == Settings.from_env({}).lease_seconds
    assert conf["result_backend"] == "redis://127.0.0.1:6379/0"


def test_on_aws_sqs_the_url_is_kept_and_boto3_finds_the_keys():
    conf = celery_config(Settings.from_env({"TRANSCODER_BROKER_URL": "sqs://"}))
    assert conf["broker_url"] == "sqs://"
    assert "is_secure" not in conf["broker_transport_options"]
    assert conf["broker_transport_options"]["region"] == "us-east-1"
