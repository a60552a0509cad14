"""What a fault trial looks at: the processes on this machine, and the state stored in Redis."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from transcoder import keys


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


def rung_encoder(video_id: str, rung: str) -> list[int]:
    """The ffmpeg encoding one rung of the video (its output is that rung's temporary MP4)."""
    return pids_with(f"videos/{video_id}/source", f"/.{rung}.mp4.")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stored(redis_url: str, video_id: str) -> dict:
    return json.loads(redis.Redis.from_url(redis_url).get(keys.video_key(video_id)))


def part_of(video: dict, name: str) -> dict:
    return (
        video["previews"] if name == "previews" else next(r for r in video["renditions"] if r["name"] == name)
    )


def attempts(redis_url: str, video_id: str) -> dict[str, int]:
    video = stored(redis_url, video_id)
    return {r["name"]: r["attempts"] for r in video["renditions"]} | {
        "previews": video["previews"]["attempts"]
    }


def runs(redis_url: str, video_id: str) -> dict[str, int]:
    raw = redis.Redis.from_url(redis_url).hgetall(keys.runs_key(video_id))
    return {k.decode(): int(v) for k, v in raw.items()}


def files(storage: Path) -> list[str]:
    folder = storage / "videos"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
