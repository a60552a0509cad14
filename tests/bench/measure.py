"""What `make bench` measures with: CPU time of process trees, the hand-typed baseline command,
one video's run through a running system (upload complete to playable and to ready, and the
CPU of each phase), and how its outputs compare with the baseline's."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import ffmpeg
import redis
import requests

from tests.support.processes import TEST_PREFIX
from tests.support.reference import split_command
from tests.support.requests_to_api import upload
from transcoder.client import Client
from transcoder.media import commands, planner
from transcoder.media.ladder import renditions_for
from transcoder.media.planner import Part
from transcoder.media.policy import DEFAULT_LIMITS, command_head, local_input
from transcoder.media.previews import lay_out_storyboard
from transcoder.media.probe import probe
from transcoder.records import redis_keys

#: The Redis database every bench uses (flushed by each), apart from the test suite's.
REDIS_URL = os.environ.get("TRANSCODER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
redis_keys.use(TEST_PREFIX)  # the systems a bench starts name their keys as the suite's do

TICK = os.sysconf("SC_CLK_TCK")
PHASES = ("upload scan", "pictures", "previews", "sound", "join", "Python")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_times(roots: list[int]) -> tuple[float, float]:
    """CPU seconds of these processes and everything under them: their own, and that of the
    finished children they reaped (a pool process reaps its ffmpeg, so ffmpeg's time lands in
    the pool's count of reaped children)."""
    tree, own, reaped, todo = _children(), 0.0, 0.0, list(roots)
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        own += (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        reaped += (int(fields[13]) + int(fields[14])) / TICK  # cutime, cstime
        todo += tree.get(pid, [])
    return own, reaped


def tree_cpu(roots: list[int]) -> float:
    return sum(tree_times(roots))


@dataclass
class Timing:
    wall: float
    cpu: float
    playable: float | None = None
    upload: float = 0.0
    video_id: str = ""
    #: CPU seconds by phase (``PHASES``), where measured.
    phases: dict[str, float] = field(default_factory=dict)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def by_hand(src: Path, out: Path) -> Timing:
    out.mkdir(parents=True, exist_ok=True)
    before = _children_cpu()
    start = time.monotonic()
    subprocess.run(split_command(src, out), check=True)
    return Timing(time.monotonic() - start, _children_cpu() - before)


def through(base: str, clip: Path, pids: list[int]) -> Timing:
    """Upload ``clip``; time from the upload's answer to playable and to ready, and the CPU of
    ``pids`` (the workers and the web app) from the upload's start to ready."""
    cpu_before = tree_cpu(pids)  # the probe and the frame count during the upload count too
    started = time.monotonic()
    created = upload(base, clip)
    assert created.status_code == 201, created.text
    uploaded = time.monotonic()
    playable = None
    for video in Client(base).follow(created.json()["id"]):
        if playable is None and video["playable"]:
            playable = time.monotonic() - uploaded
    wall = time.monotonic() - uploaded
    assert video["state"] == "ready", video
    return Timing(wall, tree_cpu(pids) - cpu_before, playable, uploaded - started, video["id"])


def with_phases(base: str, clip: Path, worker: int, web: int, previews: float) -> Timing:
    """``through``, with its CPU split by phase: the upload's scan (the web app's ffprobe), each
    kind of part's ffmpeg (as each part recorded it), the previews, and the Python processes
    (everything else: Celery, the web app, Redis calls, the join's frame count).

    The storyboard tiles and the poster come from the pictures' own ffmpeg: ``previews`` is
    their share, measured apart (``previews_cost``), moved from the pictures to the previews.
    """
    web_before = tree_times([web])
    timing = through(base, clip, [worker, web])
    web_after = tree_times([web])
    stored = redis.Redis.from_url(REDIS_URL).get(redis_keys.video_key(timing.video_id))
    video = json.loads(stored)
    spent = {"video": 0.0, "audio": 0.0, "join": 0.0}
    sprite = 0.0
    for part in video["parts"]:
        results = part["results"] or {}
        spent[part["kind"]] += results.get("cpu_seconds", 0.0)
        sprite += results.get("sprite_cpu_seconds", 0.0)
    scan = web_after[1] - web_before[1]
    measured = scan + sum(spent.values()) + sprite
    shown_previews = min(previews, spent["video"]) + sprite
    timing.phases = {
        "upload scan": scan,
        "pictures": spent["video"] - min(previews, spent["video"]),
        "previews": shown_previews,
        "sound": spent["audio"],
        "join": spent["join"],
        "Python": timing.cpu - measured,
    }
    return timing


def previews_cost(clip: Path) -> float:
    """CPU seconds the storyboard tiles and the poster add to a decode of the whole clip: the
    same filters the parts run, fed by one decode, against that decode alone."""
    media = probe(clip)
    plan = lay_out_storyboard(media)
    whole = Part(
        "all", "video", (), 0, 0.0, 0, tiles=(0, plan.count), poster_at=planner.poster_time(media.duration)
    )
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-previews-{os.getpid()}"
    out.mkdir(exist_ok=True)

    def decode() -> ffmpeg.nodes.FilterableStream:
        source = ffmpeg.input(local_input(clip), protocol_whitelist="file")
        return commands.prepared(source[str(media.video_stream)], media)

    both = decode().split()
    with_previews = ffmpeg.merge_outputs(
        commands.tiles_output(both[0], whole, plan, out, media),
        commands.poster_output(both[1], whole, out / "poster.jpg", media),
    )
    alone = decode().output("-", format="null")
    spent = []
    for graph in (with_previews, alone):
        before = _children_cpu()
        subprocess.run(graph.compile(cmd=command_head(DEFAULT_LIMITS)), check=True, stdout=subprocess.DEVNULL)
        spent.append(_children_cpu() - before)
    return max(0.0, spent[0] - spent[1])


def download(base: str, video_id: str, folder: Path) -> dict[str, Path]:
    """Every rendition's MP4 of a ready video."""
    folder.mkdir(parents=True, exist_ok=True)
    video = requests.get(f"{base}/api/videos/{video_id}", timeout=30).json()
    out = {}
    for rendition in video["renditions"]:
        out[rendition["name"]] = folder / f"{rendition['name']}.mp4"
        out[rendition["name"]].write_bytes(requests.get(base + rendition["url"], timeout=120).content)
    return out


def ssim(encoded: Path, source: Path) -> float:
    """SSIM (all planes) of an encoded rendition against the source scaled to its size."""
    width, height = (probe(encoded).width, probe(encoded).height)
    graph = (f"[1:v]scale={width}:{height}:flags=bicubic,format=yuv420p,setpts=PTS-STARTPTS[ref];"
             "[0:v]format=yuv420p,setpts=PTS-STARTPTS[out];[out][ref]ssim")  # fmt: skip
    log = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-i", str(encoded), "-i", str(source), "-lavfi", graph,
         "-f", "null", "-"], capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return float(re.findall(r"All:([0-9.]+)", log)[-1])


def compare_outputs(
    ours: dict[str, Path], split: Path, source: Path
) -> list[tuple[str, float, float, float]]:
    """Each rendition: its size over the split command's, and the SSIM of each against the source."""
    media = probe(source)
    rows = []
    for rendition in renditions_for(media.width, media.height):
        theirs = split / f"{rendition.name}.mp4"
        mine = ours[rendition.name]
        rows.append((rendition.name, mine.stat().st_size / theirs.stat().st_size, ssim(mine, source),
                     ssim(theirs, source)))  # fmt: skip
    return rows
