"""What a fault trial looks at: the processes on this machine, and the state stored in Redis."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from transcoder.records import redis_keys


def cmdlines() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                )
            except OSError:
                continue
    return found


def pids_with(*words: str) -> list[int]:
    return [
        pid for pid, cmd in cmdlines().items() if cmd.startswith("ffmpeg") and all(w in cmd for w in words)
    ]


def encoder_pids(video_id: str) -> list[int]:
    """Every ffmpeg reading the video's source (encodes and previews)."""
    return pids_with(f"videos/{video_id}/source")


def part_encoder(video_id: str, part: str) -> list[int]:
    """The ffmpeg encoding one part of the video (its outputs are that part's temporary folders)."""
    return pids_with(f"videos/{video_id}/source", f"/.{part}.")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stored(redis_url: str, video_id: str) -> dict:
    return json.loads(redis.Redis.from_url(redis_url).get(redis_keys.video_key(video_id)))


def part_of(video: dict, part: str) -> dict:
    return next(p for p in video["parts"] if p["id"] == part)


def attempts(redis_url: str, video_id: str) -> dict[str, int]:
    """How often each part of the video was started."""
    return {p["id"]: p["attempts"] for p in stored(redis_url, video_id)["parts"]}


def runs(redis_url: str, video_id: str) -> dict[str, int]:
    raw = redis.Redis.from_url(redis_url).hgetall(redis_keys.runs_key(video_id))
    return {k.decode(): int(v) for k, v in raw.items()}


def files(storage: Path) -> list[str]:
    folder = storage / "videos"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
