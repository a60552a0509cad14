"""Runs ``transcoder.work.lost_work`` in every worker's main process, on a timer, clears
this machine's scratch folder of what killed processes left, and removes the resumable
uploads that expired (``transcoder.uploads.resumable``: their bytes, records and quota).

A thread rather than Celery beat, so no extra process needs deploying and a
cluster keeps sweeping as long as any worker lives; sweeps by several workers
at once are safe (see ``transcoder.work.lost_work``).
"""

from __future__ import annotations

import logging
import threading

from celery.signals import worker_ready, worker_shutdown

from transcoder.services import build_services
from transcoder.storage import scratch
from transcoder.uploads import staging
from transcoder.uploads.resumable import Resumable
from transcoder.work.lost_work import sweep

from .celery import app
from .workflow import send_part

log = logging.getLogger(__name__)
_stop = threading.Event()


@worker_ready.connect
def _start(**_: object) -> None:
    settings = app.conf.transcoder_settings
    services = build_services(settings, patient=True)

    def loop() -> None:
        while not _stop.wait(settings.sweep_seconds):
            try:
                sweep(services, lambda video_id, part: send_part(app, video_id, part))
                scratch.clean(settings.scratch_dir)  # folders of pool processes that were killed
            except Exception:
                log.exception("sweep failed; trying again next time")
            try:
                Resumable(services, staging.of(settings, services.storage)).sweep()
            except Exception:
                log.exception("sweeping expired uploads failed; trying again next time")

    threading.Thread(target=loop, name="transcoder-sweeper", daemon=True).start()


@worker_shutdown.connect
def _stop_sweeping(**_: object) -> None:
    _stop.set()
