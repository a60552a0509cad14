"""Trials 2 and 9 again with RabbitMQ as the broker: a worker killed outright, and a part
delivered twice more while it runs. RabbitMQ hands a dead worker's message back as soon as
its connection drops (no visibility timeout), and the part's lease turns the copies away,
as on Redis. Each trial's body is the one in ``test_faults``; only the cluster differs."""

from __future__ import annotations

import pytest

from tests.brokers import rabbitmq_vhost
from tests.processes import Processes

from .checks import trial
from .conftest import TRIALS, Cluster, cluster_env
from .test_faults import duplicate_delivery, kill_whole_worker

RUNS = range(TRIALS)


@pytest.fixture(scope="module")
def cluster(fault_redis, fault_storage, tmp_path_factory):
    """Web app and two workers whose messages travel on a RabbitMQ vhost of their own."""
    processes = Processes(tmp_path_factory.mktemp("rabbit-logs"))
    with rabbitmq_vhost("faults") as url:
        cluster = Cluster(
            processes, {**cluster_env(fault_redis.url, fault_storage), "TRANSCODER_BROKER_URL": url}
        )
        cluster.start_worker()
        cluster.start_worker()
        try:
            yield cluster
        finally:
            processes.stop_all()


@pytest.mark.parametrize("run", RUNS)
@trial("17. SIGKILL a whole worker, start a new one, on RabbitMQ")
def test_kill_whole_worker_on_rabbitmq(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    kill_whole_worker(cluster, fault_redis, fault_storage, clip, tmp_path)


@pytest.mark.parametrize("run", RUNS)
@trial("18. The same part delivered twice more while it runs, on RabbitMQ")
def test_duplicate_delivery_on_rabbitmq(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    duplicate_delivery(cluster, fault_redis, fault_storage, clip, tmp_path)
