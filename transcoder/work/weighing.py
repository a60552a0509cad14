"""What a video keeps in storage, weighed by the change that ends it.

A video's ``stored_bytes`` is its source's size while it runs; once it has ended, it is
everything stored under it (source, every rendition, HLS segments, poster, storyboard
and its tiles), what the storage quota counts. It must be carried by the very snapshot
that ends the video: an ended video publishes no later change, and any transition may
end it (the join's end, the last part's failure, the sweeper failing a part whose
worker died, a close that finds the rest blocked). So every such change goes through
``update``, which weighs the video's folder once it knows the change ends it: all the
parts have ended by then, so all their outputs are in place. A cancel keeps nothing
(its files are removed): ``transitions.cancel`` says so itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from transcoder.errors import StorageError
from transcoder.records import states, transitions
from transcoder.services import Services
from transcoder.storage.layout import video_prefix

log = logging.getLogger(__name__)


class _Unweighed(Exception):
    """The change would end the video, and its weight is not known yet."""


def update(
    services: Services, video_id: str, change: Callable[[states.Video], bool]
) -> tuple[states.Video, bool]:
    """``services.videos.update(video_id, change)``; if the change ends the video, the
    snapshot that ends it also carries what the video keeps in storage."""
    weight: list[int] = []

    def weighed(video: states.Video) -> bool:
        ending = video["state"] not in states.TERMINAL
        changed = change(video)
        if changed and ending and video["state"] in states.TERMINAL - {states.VideoState.CANCELED}:
            if not weight:
                raise _Unweighed
            transitions.weigh(video, weight[0])
        return changed

    try:
        return services.videos.update(video_id, weighed)
    except _Unweighed:
        pass
    try:
        weight.append(services.storage.size_of(video_prefix(video_id)))
    except StorageError as exc:
        # The end is worth more than its weight: the video keeps its source's size.
        log.warning("video %s: not weighed (%s); it counts its source only", video_id, exc.message)
        return services.videos.update(video_id, change)
    return services.videos.update(video_id, weighed)
