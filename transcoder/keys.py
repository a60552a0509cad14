"""Every Redis key and channel name this project uses, in one place."""

from __future__ import annotations

PREFIX = "transcoder"

#: The Celery queues (Redis lists of waiting messages). Encodes of rungs and previews wait
#: in RUNGS_QUEUE, whose length is what autoscalers read; closing a video waits in
#: FINALIZE_QUEUE, so it never queues behind long encodes. An operator may start workers
#: that take only one of them.
RUNGS_QUEUE = "rungs"
FINALIZE_QUEUE = "finalize"
QUEUES = (RUNGS_QUEUE, FINALIZE_QUEUE)

#: Sorted set of video ids scored by creation time, for "recent videos".
VIDEOS_INDEX = f"{PREFIX}:videos"
#: Set of ids of videos not yet ended; the sweeper looks only at these.
ACTIVE_VIDEOS = f"{PREFIX}:active"
#: Hash of video state -> how many videos are in it now (kept with every state change).
VIDEO_STATES = f"{PREFIX}:metrics:video-states"
#: Counters and histograms shared by every process, for /metrics (see transcoder.metrics).
METRICS = f"{PREFIX}:metrics"


def video_key(video_id: str) -> str:
    """The JSON snapshot of one video: the single source of truth for its state."""
    return f"{PREFIX}:video:{video_id}"


def events_channel(video_id: str) -> str:
    """Pub/sub channel that carries every new snapshot of one video."""
    return f"{PREFIX}:events:{video_id}"


def runs_key(video_id: str) -> str:
    """Hash of how often each part's task was delivered (by part name), turned away by the
    part's lease (``refused:<part>``), and how often the video was closed (``close``).

    Counts duplicates too (a re-delivered message that found the rung done), so
    operators and tests can see at-least-once delivery at work.
    """
    return f"{PREFIX}:runs:{video_id}"


def lease_key(video_id: str, part: str) -> str:
    """Held by the one task running a part; kept alive by its heartbeat, gone when the worker is."""
    return f"{PREFIX}:lease:{video_id}:{part}"


def cancel_key(video_id: str) -> str:
    """Exists once a video is canceled; running encodes poll it and stop."""
    return f"{PREFIX}:cancel:{video_id}"
