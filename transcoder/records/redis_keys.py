"""Every Redis key, channel and queue name this project uses, in one place.

Every name starts with the installation's prefix (``TRANSCODER_REDIS_PREFIX``, by default
``transcoder:<database number>``), and Celery's own keys and queues get the same one
(``tasks.config``): pub/sub channels ignore the database number, so without it two
installations sharing one Redis server would hear each other's videos. Each process
sets the prefix once at start (``use``, from ``build_services`` and the Celery config),
before it names anything.

Storage keys (where files live) are another thing, in ``transcoder.storage.layout``."""

from __future__ import annotations

from redis.connection import parse_url

#: The installation prefix this process names everything with (see ``use``).
PREFIX = "transcoder:0"

#: The Celery queues (Redis lists of waiting messages). Every part of a video's work (its
#: pictures, sound and join) waits in PARTS_QUEUE, whose length is what autoscalers read;
#: closing a video waits in FINALIZE_QUEUE, so it never queues behind long encodes. An
#: operator may start workers that take only one of them.
PARTS_QUEUE = "parts"
FINALIZE_QUEUE = "finalize"
QUEUES = (PARTS_QUEUE, FINALIZE_QUEUE)
#: On SQS only, whose queues keep no order: what makes a video playable first (its urgent
#: parts: the first chunk and the first sound) waits here rather than anywhere in PARTS_QUEUE.
#: A worker that takes PARTS_QUEUE takes this one too (``tasks.celery``). On Redis and
#: RabbitMQ, PARTS_QUEUE keeps the planner's order, which already puts them first.
URGENT_QUEUE = "urgent"

#: Set of ids of videos not yet ended; the sweeper looks only at these.
ACTIVE_VIDEOS = ""
#: Bumped with every change to which videos a library page lists; a cached page is
#: stored under the number current when its query began, so none outlives a change.
PAGES_VERSION = ""
#: The library pages cached now, oldest first (so their number stays bounded).
KEPT_PAGES = ""
#: Set once the catalog's unfinished videos have been put back into this Redis. Gone
#: means Redis lost everything (restarted empty, flushed, failed over): recover.
LOADED = ""
#: Held by the one sweeper that is putting the catalog's unfinished videos back.
RECOVERING = ""
#: Ids of videos whose newest change the database has not taken yet (it was down).
BEHIND = ""
#: Cache hits and misses, for /metrics.
CACHE_COUNTS = ""
#: How long flags and counters about a video (its cancel flag, its run counts) last.
FLAG_TTL = 30 * 24 * 3600
#: Counters and histograms shared by every process, for /metrics (see transcoder.ops.metrics).
METRICS = ""


def video_key(video_id: str) -> str:
    """The JSON snapshot of one video: the live copy while it runs (every transition is
    applied to it), a cached copy of the catalog's record once it has ended."""
    return f"{PREFIX}:video:{video_id}"


def floor_key(video_id: str) -> str:
    """The lowest ``seq`` a cached copy of this video may have: raised with every change,
    so a reader that fetched an older record from the database cannot put it back."""
    return f"{PREFIX}:floor:{video_id}"


def page_key(version: int, query: str) -> str:
    """A cached library page: its video ids and next cursor."""
    return f"{PREFIX}:page:{version}:{query}"


def events_channel(video_id: str) -> str:
    """Pub/sub channel that carries every new snapshot of one video."""
    return f"{PREFIX}:events:{video_id}"


def runs_key(video_id: str) -> str:
    """Hash of how often each part's task was delivered (by part name), turned away by the
    part's lease (``refused:<part>``), and how often the video was closed (``close``).

    Counts duplicates too (a re-delivered message that found the part done), so
    operators and tests can see at-least-once delivery at work.
    """
    return f"{PREFIX}:runs:{video_id}"


def lease_key(video_id: str, part: str) -> str:
    """Held by the one task running a part; kept alive by its heartbeat, gone when the worker is."""
    return f"{PREFIX}:lease:{video_id}:{part}"


def sign_in_failures_key(kind: str, who: str) -> str:
    """Recent failed sign-ins of one account (its name's hash) or one address."""
    return f"{PREFIX}:sign-in-failures:{kind}:{who}"


def revoked_key(kind: str, ident: str) -> str:
    """Set ("<time> <reason>") when a credential is revoked: a session signed out, a key
    revoked, or (kind ``user``) every credential of a user disabled or given a new
    password. The open live streams it opened look at it each keep-alive
    (``transcoder.accounts.revocations``)."""
    return f"{PREFIX}:revoked:{kind}:{ident}"


def reservations_key(user_id: str) -> str:
    """Hash of the bytes one user's uploads under way hold against their quotas (upload id
    to "bytes expires_at"; see ``transcoder.accounts.reservations``)."""
    return f"{PREFIX}:reservations:{user_id}"


def upload_lock_key(upload_id: str) -> str:
    """Held (a random token, with a TTL) by the one request that writes a resumable
    upload's bytes (``transcoder.uploads.locks``)."""
    return f"{PREFIX}:upload-lock:{upload_id}"


def creating_key(user_id: str) -> str:
    """Held (a random token, with a TTL) while one of a user's resumable uploads is counted
    and created, so two creations cannot both take the last place
    (``transcoder.uploads.under_way``)."""
    return f"{PREFIX}:upload-creating:{user_id}"


def cancel_key(video_id: str) -> str:
    """Exists once a video is canceled; running encodes poll it and stop."""
    return f"{PREFIX}:cancel:{video_id}"


def queue_key(queue: str) -> str:
    """The Redis list a Celery queue's waiting messages are in (kombu adds the prefix)."""
    return f"{PREFIX}:{queue}"


def default_prefix(redis_url: str) -> str:
    """``transcoder:<database number>``: installations on different databases of one
    server share nothing, with nothing to set."""
    try:
        return f"transcoder:{parse_url(redis_url).get('db', 0)}"
    except ValueError:  # not a Redis URL: the settings' check says so
        return "transcoder:0"


def use(prefix: str) -> None:
    """Name everything under ``prefix`` from now on in this process."""
    global PREFIX, ACTIVE_VIDEOS, PAGES_VERSION, KEPT_PAGES, LOADED, RECOVERING, BEHIND, CACHE_COUNTS, METRICS
    PREFIX = prefix
    ACTIVE_VIDEOS = f"{PREFIX}:active"
    PAGES_VERSION = f"{PREFIX}:pages:version"
    KEPT_PAGES = f"{PREFIX}:pages:kept"
    LOADED = f"{PREFIX}:catalog:loaded"
    RECOVERING = f"{PREFIX}:catalog:recovering"
    BEHIND = f"{PREFIX}:catalog:behind"
    CACHE_COUNTS = f"{PREFIX}:metrics:cache"
    METRICS = f"{PREFIX}:metrics"


use(PREFIX)
