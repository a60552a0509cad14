"""Trials 2 and 9 again with RabbitMQ and with SQS as the broker, in every `make test`: a
worker killed outright, and a part delivered twice more while it runs. RabbitMQ hands a dead
worker's message back as soon as its connection drops; on SQS the sweeper sends the part
again once its lease lapses. Either way the part's lease turns the copies away, as on Redis.
Each trial's body is the one in ``test_faults``; only the cluster differs. (`make faults`
runs every trial of ``test_faults`` on all three brokers instead.)"""

from __future__ import annotations

import pytest

from .checks import trial
from .conftest import TRIALS, broker_cluster
from .test_faults import duplicate_delivery, kill_whole_worker

RUNS = range(TRIALS)


@pytest.fixture(scope="module", params=["rabbitmq", "sqs"])
def cluster(request, fault_redis, fault_storage, processes):
    with broker_cluster(request, request.param, fault_redis, fault_storage, processes) as cluster:
        yield cluster


@pytest.mark.parametrize("run", RUNS)
@trial("2. SIGKILL a whole worker, start a new one")
def test_kill_whole_worker_on_another_broker(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    kill_whole_worker(cluster, fault_redis, fault_storage, clip, tmp_path)


@pytest.mark.parametrize("run", RUNS)
@trial("9. The same part delivered twice more while it runs")
def test_duplicate_delivery_on_another_broker(run, cluster, fault_redis, fault_storage, clip, tmp_path):
    duplicate_delivery(cluster, fault_redis, fault_storage, clip, tmp_path)
