"""Real services for integration and browser tests: Redis, `celery worker` processes, gunicorn, ffmpeg.

One Redis database (flushed before and after the session), one storage folder, two
worker processes and one web server, shared by the whole session. Nothing is faked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from transcoder.records import transitions
from transcoder.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TRANSCODER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MAX_UPLOAD = 20 * 1024 * 1024
WORKERS = ("w1", "w2")
#: What a wheel is built from: the packaging test and the Dockerfile copy exactly these.
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "transcoder", "tasks", "web")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Integration tests need Redis at {REDIS_URL} (make test starts one): {exc}")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def storage_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("storage")


@pytest.fixture(scope="session")
def settings(storage_dir) -> Settings:
    return Settings.from_env(
        {},
        redis_url=REDIS_URL,
        storage_dir=storage_dir,
        database_url=catalog_url(storage_dir),
        max_upload_bytes=MAX_UPLOAD,
    )


def catalog_url(storage_dir: Path) -> str:
    """The SQLite catalog of the system whose files are in ``storage_dir`` (one per system)."""
    return f"sqlite:///{storage_dir.with_name(storage_dir.name + '-catalog.db')}"


def recorded(storage_dir: Path) -> int:
    """How many videos the catalog of the system in ``storage_dir`` records."""
    import sqlite3

    path = catalog_url(storage_dir).removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT count(*) FROM videos").fetchone()[0]


@contextmanager
def side_services(redis_url: str, folder: Path, **overrides: object):
    """Clients of a system of a test's own: a flushed Redis database (flushed again after)
    and an SQLite catalog in ``folder``, its schema made."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    settings = Settings.from_env(
        {}, redis_url=redis_url, storage_dir=folder, database_url=catalog_url(folder), **overrides
    )
    try:
        yield prepared_services(settings)
    finally:
        client.flushdb()


def prepared_services(settings: Settings, patient: bool = False):
    """A process's clients, with the catalog's schema made, as a starting web app or worker would."""
    from transcoder.services import build_services
    from transcoder.work.recovery import prepare

    services = build_services(settings, patient=patient)
    prepare(services)
    return services


def environment(redis_url: str, storage_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a web or worker process: ours, without the caller's TRANSCODER_ ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSCODER_")}
    env.update(
        TRANSCODER_REDIS_URL=redis_url,
        TRANSCODER_STORAGE_DIR=str(storage_dir),
        TRANSCODER_DATABASE_URL=catalog_url(storage_dir),
        TRANSCODER_SCRATCH_DIR=str(storage_dir.with_name(storage_dir.name + "-scratch")),
        TRANSCODER_PROGRESS_INTERVAL="0.1",
        TRANSCODER_SSE_KEEPALIVE="2",
        # Every test client is 127.0.0.1: the cap is tried on a server of its own (test_live).
        TRANSCODER_STREAMS_PER_CLIENT="200",
    )
    env.update({f"TRANSCODER_{name.upper()}": value for name, value in settings.items()})
    return env


def send_half_an_upload(base_url: str, path: Path) -> None:
    """Start a multipart upload of ``path``, send half of it, and hang up."""
    body = path.read_bytes()
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\n\r\n'
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /api/videos HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {len(head) + len(body) + 8}\r\n\r\n".encode()
            + head
            + body[: len(body) // 2]
        )


@pytest.fixture(scope="session")
def service_env(settings, storage_dir) -> dict[str, str]:
    return environment(settings.redis_url, storage_dir, max_upload_bytes=str(MAX_UPLOAD))


class RedisServer:
    """redis-server with the operators' config (AOF everysec), on a free port, data in a temp dir."""

    def __init__(self, folder: Path, bind: str = "127.0.0.1", persistent: bool = True) -> None:
        self.folder, self.port, self.bind = folder, free_port(), bind
        #: False: nothing on disk at all, like the Redis these machines start.
        self.persistent = persistent
        self.url = self.url_at("127.0.0.1")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", str(ROOT / "infra" / "redis.conf"), "--port", str(self.port),
             "--bind", self.bind, "--protected-mode", "no", "--dir", str(self.folder), "--save", "",
             "--logfile", str(self.folder / "redis.log"),
             *([] if self.persistent else ["--appendonly", "no"])],
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), 20, "redis-server start")

    def url_at(self, address: str) -> str:
        return f"redis://{address}:{self.port}/0"

    def shut_down(self) -> None:
        """A clean stop (SHUTDOWN NOSAVE): no snapshot, but the append-only file is flushed first,
        so nothing written before it is lost."""
        try:
            redis.Redis(port=self.port).shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        self.proc.wait(10)

    def crash(self) -> None:
        """SIGKILL: what survives is what the append-only file had on disk (fsync every second)."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self.by_name: dict[str, subprocess.Popen] = {}

    def start(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT
    ) -> tuple[subprocess.Popen, Path]:
        log = self.logs / f"{name}.log"
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        self.by_name[name] = proc
        return proc, log

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for(predicate, timeout: float, what: str, proc=None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"{what} did not happen within {timeout} s\n{tail}")


@pytest.fixture(scope="session")
def processes(tmp_path_factory):
    procs = Processes(tmp_path_factory.mktemp("logs"))
    yield procs
    procs.stop_all()


@pytest.fixture(scope="session")
def workers(redis_client, service_env, processes) -> list[str]:
    """Two `celery worker` processes with one slot each, like two small machines."""
    for short in WORKERS:
        start_worker(processes, service_env, short, "--without-gossip", "--without-mingle")
    return [f"{short}@{socket.gethostname()}" for short in WORKERS]


@pytest.fixture(scope="session")
def base_url(redis_client, service_env, processes) -> str:
    return start_web(processes, service_env, "web")


API_KEYS = ("key-one", "key-two")


def start_web(processes: Processes, env: dict[str, str], name: str) -> str:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "-c", "python:web.server", "--bind",
            f"127.0.0.1:{port}", "web:create_app()"]  # fmt: skip
    proc, log = processes.start(name, argv, env)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_for(up, 30, f"{name} server start", proc, log)
    return url


@pytest.fixture(scope="session")
def keyed_url(workers, service_env, processes) -> str:
    """A second web server on the same Redis and storage, that requires API keys."""
    return start_web(processes, {**service_env, "TRANSCODER_API_KEYS": ",".join(API_KEYS)}, "web-keyed")


@pytest.fixture(scope="session")
def system(workers, base_url) -> str:
    """The whole system running: web app and two workers. Returns the web app's URL."""
    return base_url


@dataclass
class SideSystem:
    """A web server on a Redis database of its own, for tests that start their own workers."""

    redis: redis.Redis
    processes: Processes
    env: dict[str, str]
    url: str


@contextmanager
def side_system(root: Path, database: int, **settings: str) -> Iterator[SideSystem]:
    """The session's shared workers never see this database, so they never take its messages."""
    url = REDIS_URL.rsplit("/", 1)[0] + f"/{database}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    processes = Processes(root)
    env = environment(url, root / "storage", **settings)
    try:
        yield SideSystem(client, processes, env, start_web(processes, env, f"{root.name}-web"))
    finally:
        processes.stop_all()
        client.flushdb()


def start_worker(
    processes: Processes, env: dict[str, str], name: str, *options: str, log_name: str = ""
) -> subprocess.Popen:
    """One `celery worker` named ``name`` with one encode at a time; returns once it is ready."""
    argv = [str(BIN / "celery"), "-A", "tasks", "worker", "--loglevel", "INFO", "--concurrency", "1",
            "--hostname", f"{name}@%h", *options]  # fmt: skip
    proc, log = processes.start(log_name or name, argv, env)
    wait_for(lambda: b" ready." in log.read_bytes(), 60, f"worker {name} start", proc, log)
    return proc


def upload(base_url: str, path: Path, name: str | None = None) -> requests.Response:
    with open(path, "rb") as fh:
        return requests.post(f"{base_url}/api/videos", files={"file": (name or path.name, fh)}, timeout=60)


def wait_terminal(base_url: str, video_id: str, timeout: float = 180) -> dict:
    def done():
        video = requests.get(f"{base_url}/api/videos/{video_id}", timeout=10).json()
        return video if video["state"] in ("ready", "failed", "canceled") else None

    return wait_for(done, timeout, f"video {video_id} finishing")


def make_clip(path: Path, *, size: str, seconds: float, audio: bool, rate: int = 25, crf: int = 23) -> Path:
    """A test clip from ffmpeg's lavfi sources: moving pattern, optional tone."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}"]  # fmt: skip
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-shortest"] if audio else []
    subprocess.run([*argv, str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def lavfi_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "tone.mp4", size="640x360", seconds=4, audio=True)


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory) -> Path:
    """Long enough at 720p that a rung reports progress several times before it ends."""
    return make_clip(tmp_path_factory.mktemp("clips") / "long.mp4", size="1280x720", seconds=12, audio=True)


def video_record(video_id: str, media, shape: str = "renditions"):
    """A video's document as an upload would make it, from a made-up frame list (25 fps, a
    keyframe every 2 s); in the ``rungs`` shape its parts are v00 (144p), v01 (240p) and so on."""
    from transcoder.media import planner
    from transcoder.media.frames import Frames
    from transcoder.media.ladder import renditions_for
    from transcoder.media.previews import plan_storyboard

    count = round(media.duration * 25)
    frames = Frames(tuple(i / 25 for i in range(count)), frozenset(range(0, count, 50)))
    ladder = renditions_for(media.width, media.height)
    bitrates = [r.audio_bitrate_k for r in ladder] if media.has_audio else []
    parts = planner.plan(
        frames, [r.name for r in ladder], plan_storyboard(media), audio_bitrates=bitrates, shape=shape
    )
    return transitions.new_video(video_id, "a.mp4", media, ladder, parts, now=1.0)
