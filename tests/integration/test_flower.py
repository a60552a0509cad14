"""`make flower` runs Celery's monitor against the same broker, and it sees our workers."""

from __future__ import annotations

import requests

from tests.support.processes import free_port, wait_for


def test_make_flower_shows_the_running_workers(workers, service_env, processes):
    port = free_port()
    proc, log = processes.start("flower", ["make", "--no-print-directory", "flower", f"FLOWER_PORT={port}"],
                                service_env)  # fmt: skip

    def dashboard():
        try:
            reply = requests.get(f"http://127.0.0.1:{port}/workers?refresh=1", timeout=10)
        except requests.RequestException:
            return None
        return reply.status_code == 200 and all(name in reply.text for name in workers)

    wait_for(dashboard, 90, "flower listing both workers", proc, log)
