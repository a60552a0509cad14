"""One settings object, read once from TRANSCODER_* environment variables.

Every process (web, worker, CLI, tests) builds it with ``Settings.from_env`` and
passes it on; no other module reads the environment. docs/settings.md lists each variable
(tests/unit/test_documented.py checks it).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from transcoder.errors import ConfigError
from transcoder.media.policy import DEFAULT_LIMITS, Limits
from transcoder.records import redis_keys

PREFIX = "TRANSCODER_"
#: Settings renamed so that one word means one thing: the old name still works for a
#: release, with a warning at start (see ``Settings.from_env``).
RENAMED = {"PLAN": "PART_SHAPE", "SSE_KEEPALIVE": "STREAM_KEEPALIVE"}
#: Values renamed with them: (setting, old value) -> new value.
RENAMED_VALUES = {("part_shape", "rungs"): "renditions"}

#: What TRANSCODER_BROKER_URL may start with, for each broker (``transcoder.brokers``
#: tells them apart by these).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
RABBITMQ_SCHEMES = ("amqp://", "amqps://")
SQS_SCHEME = "sqs://"
BROKER_SCHEMES = (*REDIS_SCHEMES, *RABBITMQ_SCHEMES, SQS_SCHEME)
#: Seconds between a task's soft time limit (ffmpeg is stopped, the part marked failed) and
#: the hard kill.
HARD_LIMIT_GRACE_S = 60
#: Slack between the hard kill and the broker handing an unacknowledged message out again.
VISIBILITY_SLACK_S = 600
#: SQS's longest visibility timeout.
SQS_MAX_VISIBILITY_S = 12 * 3600

log = logging.getLogger(__name__)


#: The renamed settings' warnings already given by this process.
_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    """A process reads its settings in more than one place (its app, its Celery app...):
    a renamed setting is told once, not once per reading."""
    if message not in _WARNED:
        _WARNED.add(message)
        log.warning(message)


@dataclass(frozen=True)
class Settings:
    #: Redis for job state, progress events, leases, the cache and Celery's results.
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: The queue the parts travel on (Celery's broker): empty for the Redis of REDIS_URL,
    #: amqp://user:password@host:5672/vhost for RabbitMQ, or sqs:// for Amazon SQS (with the
    #: keys as sqs://KEY:SECRET@, or none for boto3's own chain: environment, instance role).
    broker_url: str = ""
    #: Amazon SQS as the broker: its region, another endpoint (empty: AWS's own), and what
    #: starts the name of each of this installation's queues.
    sqs_region: str = "us-east-1"
    sqs_endpoint_url: str = ""
    sqs_queue_prefix: str = "transcoder-"
    #: Starts every Redis key, channel and queue of this installation (Celery's too), so
    #: several installations can share one Redis server. Empty: transcoder:<database number>.
    redis_prefix: str = ""
    #: Where uploads and renditions live: "local" (a folder) or "s3" (a bucket).
    storage: str = "local"
    #: The folder, for local storage; every web process and worker must see the same one.
    storage_dir: Path = Path("var/storage")
    #: This process's own working folder: uploads before they are stored, and with S3 the
    #: downloads and outputs of the encodes running here. Nothing in it outlives its work.
    scratch_dir: Path = Path("var/scratch")
    #: S3 storage: the bucket, a key prefix inside it, and where and how to reach it.
    #: Empty endpoint, region and keys fall back to boto3's own (AWS, instance roles).
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    #: Largest accepted upload, in bytes (HTTP 413 above it).
    max_upload_bytes: int = 2 * 1024**3
    #: A resumable (tus) upload not finished this many seconds after its creation expires:
    #: its PATCHes are refused (410), and the workers' sweep removes its bytes.
    upload_expiry: float = 86400.0
    #: Unfinished resumable uploads one user may hold at once (a creation past it: 429);
    #: 0: no cap.
    uploads_under_way: int = 20
    #: Address the web app listens on under `make run`.
    host: str = "127.0.0.1"
    port: int = 8000
    #: Comma-separated host names the web app answers to (a leading dot: every subdomain;
    #: "*": any). Empty: the loopback names, and HOST when it names one address.
    allowed_hosts: str = ""
    #: Proxies in front of the web app that set X-Forwarded-For/-Proto/-Host (0: none). With
    #: one, a page served over HTTPS gets its session cookie marked Secure.
    trusted_proxies: int = 0
    #: The bearer token Prometheus sends to read /metrics; without it only loopback, under
    #: an allowed host name, is answered. Empty: loopback only.
    metrics_token: str = ""
    #: An upload that sends fewer bytes than this per second, over any UPLOAD_RATE_WINDOW, is
    #: cut (408): a trickle cannot hold a connection, and a slow but steady one can go on.
    upload_min_rate: int = 8 * 1024
    upload_rate_window: float = 30.0
    #: Threads each ffmpeg may use (0: ffmpeg decides).
    ffmpeg_threads: int = 0
    #: How the planner cuts a video's work into parts: "chunks" (time ranges, each decoded
    #: once into every rendition, spread over all workers) or "renditions" (one part per
    #: rendition over the whole video). Was TRANSCODER_PLAN, with "rungs" for "renditions".
    part_shape: str = "chunks"
    #: Length of a chunk in seconds, rounded to whole 4 s segments; 0 lets the planner choose.
    chunk_seconds: float = 0.0
    #: x264 preset: speed against size at the same quality.
    x264_preset: str = "veryfast"
    #: The same bytes uploaded again reuse what they became (transcoder.work.reuse):
    #: "owner" among one owner's videos, "all" among everyone's (a video ready at once tells
    #: its uploader someone sent those bytes before), "off" never.
    dedupe: str = "owner"
    #: Least time between two progress events of one rendition, in seconds.
    progress_interval: float = 0.25
    #: Seconds of quiet after which an open stream shows it is alive: an event stream sends a
    #: keep-alive comment, a WebSocket a ping; each stream also checks this often whether its
    #: credential was revoked (a sign-out). Was TRANSCODER_SSE_KEEPALIVE.
    stream_keepalive: float = 15.0
    #: Open event streams and WebSockets one client may hold (0: no cap): its user (each key
    #: of the built-in service user alone); with AUTH=off, a request without a key by address.
    streams_per_client: int = 20
    #: Videos one stream may follow by id.
    stream_max_videos: int = 500
    #: A connection that sends nothing (headers, body, WebSocket frames or pongs) for this
    #: long, or takes nothing we send for this long, is closed.
    idle_timeout: float = 60.0
    #: The catalog, where every video is recorded for good: an SQLite file (one machine)
    #: or postgresql+psycopg://user@host/db (several machines).
    database_url: str = "sqlite:///var/catalog.db"
    #: How long Redis keeps a copy of an ended video, or of a library page, in seconds
    #: (0: no copies; every read goes to the database). Running videos always stay.
    cache_ttl: int = 3600
    #: Longest one rendition task may run before it is stopped, in seconds.
    task_time_limit: int = 3 * 3600
    #: Comma-separated API keys of the built-in "service" user (one owner, one quota).
    api_keys: str = ""
    #: "on": every page and API call needs a signed-in user or an API key. "off": every
    #: request acts as one local admin (one person's machine, or behind another sign-in).
    auth: str = "on"
    #: Signs browser sessions. Empty: made once and kept in SECRET_KEY_FILE, so a restart
    #: signs nobody out (set the same one on every web process behind one address).
    secret_key: str = ""
    secret_key_file: Path = Path("var/secret-key")
    #: A session unused this long, in seconds, is signed out.
    session_lifetime: float = 14 * 24 * 3600
    #: Sign-ins one web process takes at once, their throttle's wait included; past it,
    #: 429 at once, before any password work (web.auth.sign_in_gate).
    sign_ins_in_flight: int = 16
    #: Every uploader's quotas, in bytes (0: none): what their videos keep in storage, and
    #: what they upload in any 24 hours. A user's own replace them; admins have none.
    storage_quota: int = 20 * 1024**3
    daily_quota: int = 5 * 1024**3
    #: A running part's lease lasts this long without a heartbeat; a dead worker's part
    #: is taken up again this soon after it died.
    lease_seconds: float = 30.0
    #: An encode that reports no progress for this long is killed and tried again.
    stall_seconds: float = 120.0
    #: How often each worker looks for parts whose worker died.
    sweep_seconds: float = 10.0
    #: A part is tried this many times before it fails for good.
    max_attempts: int = 3
    #: What one upload may ask of us (see transcoder.media.policy, which holds the defaults).
    max_duration: float = DEFAULT_LIMITS.max_duration
    max_pixels: int = DEFAULT_LIMITS.max_pixels
    max_fps: float = DEFAULT_LIMITS.max_fps
    max_streams: int = DEFAULT_LIMITS.max_streams
    ffmpeg_cpu_seconds: int = DEFAULT_LIMITS.ffmpeg_cpu_seconds
    ffmpeg_wall_seconds: float = DEFAULT_LIMITS.ffmpeg_wall_seconds

    def __post_init__(self) -> None:
        if not self.redis_prefix:
            object.__setattr__(self, "redis_prefix", redis_keys.default_prefix(self.redis_url))
        if not self.broker_url:
            object.__setattr__(self, "broker_url", self.redis_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``), then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            old = next((o for o, new in RENAMED.items() if new == f.name.upper()), None)
            if (raw is None or raw == "") and old and environ.get(PREFIX + old):
                raw = environ[PREFIX + old]
                _warn_once(f"{PREFIX}{old} is now {PREFIX}{f.name.upper()}; "
                           "the old name will stop working in a later release")  # fmt: skip
            if raw is None or raw == "":
                continue
            if (f.name, raw) in RENAMED_VALUES:
                new_value = RENAMED_VALUES[(f.name, raw)]
                name = PREFIX + f.name.upper()
                _warn_once(f"{name}={raw} is now written {name}={new_value}")
                raw = new_value
            values[f.name] = _convert(f.name, f.type, raw)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(
                f"{PREFIX}REDIS_URL must start with redis://, rediss:// or unix://, got {self.redis_url!r}"
            )
        if not self.broker_url.startswith(BROKER_SCHEMES):
            raise ConfigError(
                f"{PREFIX}BROKER_URL must start with redis://, rediss://, amqp://, amqps:// or sqs://, "
                f"got {self.broker_url.split(':')[0]!r}"
            )
        if self.broker_url.startswith("sqs://"):
            self._validate_sqs()
        if not self.database_url.startswith(("sqlite:///", "postgresql")):
            raise ConfigError(
                f"{PREFIX}DATABASE_URL must be sqlite:///<file> or postgresql+psycopg://…, "
                f"got {self.database_url.split(':')[0]!r}"
            )
        if self.cache_ttl < 0:
            raise ConfigError(f"{PREFIX}CACHE_TTL must not be negative")
        if self.storage not in ("local", "s3"):
            raise ConfigError(f"{PREFIX}STORAGE must be local or s3, got {self.storage!r}")
        if self.storage == "s3" and not self.s3_bucket:
            raise ConfigError(f"{PREFIX}STORAGE=s3 needs {PREFIX}S3_BUCKET")
        if self.part_shape not in ("chunks", "renditions"):
            raise ConfigError(f"{PREFIX}PART_SHAPE must be chunks or renditions, got {self.part_shape!r}")
        if self.dedupe not in ("owner", "all", "off"):
            raise ConfigError(f"{PREFIX}DEDUPE must be owner, all or off, got {self.dedupe!r}")
        if self.chunk_seconds < 0:
            raise ConfigError(f"{PREFIX}CHUNK_SECONDS must not be negative")
        if self.max_upload_bytes <= 0:
            raise ConfigError(f"{PREFIX}MAX_UPLOAD_BYTES must be positive")
        if self.upload_expiry <= 0:
            raise ConfigError(f"{PREFIX}UPLOAD_EXPIRY must be positive")
        if self.uploads_under_way < 0:
            raise ConfigError(f"{PREFIX}UPLOADS_UNDER_WAY must not be negative")
        if self.progress_interval < 0:
            raise ConfigError(f"{PREFIX}PROGRESS_INTERVAL must not be negative")
        for name in ("max_duration", "max_pixels", "max_fps", "max_streams", "ffmpeg_cpu_seconds",
                     "ffmpeg_wall_seconds", "lease_seconds", "stall_seconds", "sweep_seconds",
                     "max_attempts"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ConfigError(f"{PREFIX}{name.upper()} must be positive")
        if self.upload_min_rate < 0 or self.upload_rate_window <= 0:
            raise ConfigError(
                f"{PREFIX}UPLOAD_MIN_RATE must not be negative, {PREFIX}UPLOAD_RATE_WINDOW positive"
            )
        if self.auth not in ("on", "off"):
            raise ConfigError(f"{PREFIX}AUTH must be on or off, got {self.auth!r}")
        if self.storage_quota < 0 or self.daily_quota < 0:
            raise ConfigError(f"{PREFIX}STORAGE_QUOTA and {PREFIX}DAILY_QUOTA must not be negative")
        if self.trusted_proxies < 0:
            raise ConfigError(f"{PREFIX}TRUSTED_PROXIES must not be negative")
        if not 0 < self.port < 65536:
            raise ConfigError(f"{PREFIX}PORT must be between 1 and 65535")

    def _validate_sqs(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{0,60}", self.sqs_queue_prefix):
            raise ConfigError(
                f"{PREFIX}SQS_QUEUE_PREFIX may hold only letters, digits, - and _ (at most 60), "
                f"got {self.sqs_queue_prefix!r}"
            )
        if self.sqs_endpoint_url and not self.sqs_endpoint_url.startswith(("http://", "https://")):
            raise ConfigError(f"{PREFIX}SQS_ENDPOINT_URL must start with http:// or https://")
        # A message a worker holds comes back after the visibility timeout, which must outlast
        # the longest run; SQS allows at most 12 hours.
        if self.visibility_timeout > SQS_MAX_VISIBILITY_S:
            longest = SQS_MAX_VISIBILITY_S - (self.visibility_timeout - self.task_time_limit)
            raise ConfigError(
                f"{PREFIX}TASK_TIME_LIMIT must be at most {longest} s with "
                f"SQS as the broker (its visibility timeout is at most 12 hours)"
            )

    @property
    def hard_time_limit(self) -> int:
        """Seconds after which a task's process is killed outright."""
        return self.task_time_limit + HARD_LIMIT_GRACE_S

    @property
    def visibility_timeout(self) -> int:
        """Seconds a broker that hands out unacknowledged messages again (Redis, SQS) waits
        first: longer than any healthy run, so no running part is handed out twice."""
        return self.hard_time_limit + VISIBILITY_SLACK_S

    @property
    def host_names(self) -> tuple[str, ...]:
        """The names in ALLOWED_HOSTS, or the loopback ones (and HOST's, if it is one address)."""
        names = [n.strip().lower() for n in self.allowed_hosts.split(",") if n.strip()]
        if not names:
            names = ["localhost", "127.0.0.1", "::1"]
            if self.host not in ("0.0.0.0", "::", "") and self.host not in names:
                names.append(self.host.lower())
        return tuple(n[1:-1] if n.startswith("[") and n.endswith("]") else n for n in names)

    @property
    def limits(self) -> Limits:
        return Limits(**{f.name: getattr(self, f.name) for f in fields(Limits)})

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _convert(name: str, type_name: object, raw: str) -> object:
    kind = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", "str")
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{PREFIX}{name.upper()} must be a {kind}, got {raw!r}") from None
