"""`make bench` (uploads): a 1 GiB video sent to one web process over loopback, by a multipart
``POST /api/videos`` and by tus (``transcoder submit``'s client, 5 MiB and 50 MiB chunks),
against ``cp`` of the same file on the same disk as the limit.

The web process computes the sha256 of every upload as its bytes arrive and probes the
file at its last byte, as in production; no worker runs, so the queued encode costs
nothing. The file is a real video the service accepts: the film excerpt of ``tests/data``
encoded at 1080p with a high bitrate, looped with ``-c copy`` to about 1 GiB, made once in
the bench's clip folder. The uploads' folders are on the clip's disk, like ``cp``'s copy.

For each row: the wall time from the first byte to the answer that names the video, the
rate, its share of ``cp``'s; the gunicorn worker's RSS after the row less before it (and its
peak, VmHWM, less before); for tus, the last PATCH's answer time (from its last byte sent
to its answer: the probe and the record). Goals: tus with 50 MiB chunks at >= 0.3 of cp's
rate; the worker's memory grows by < 20 MiB; the last PATCH answers within 2 s.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

from tests.bench.measure import REDIS_URL
from tests.bench.pipeline import CLIPS
from tests.support.clips import DATA
from tests.support.processes import Processes, environment, start_web
from transcoder.client import Client
from transcoder.media.probe import probe_and_scan
from transcoder.tus_client import MiB, Uploader

GiB = 1024 * MiB
#: The upload's size (TRANSCODER_BENCH_UPLOAD_MIB; the issue's figure is 1 GiB).
SIZE = int(os.environ.get("TRANSCODER_BENCH_UPLOAD_MIB", "1024")) * MiB
GOAL_RATE, GOAL_RSS_MIB, GOAL_LAST_PATCH_S = 0.3, 20, 2.0


def big_video(folder: Path, size: int = SIZE) -> Path:
    """About ``size`` bytes of 1080p H.264 + AAC (kept: made once, in a minute or two)."""
    out = folder / f"upload-{size // MiB}MiB.mp4"
    if out.exists():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "upload-base.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1",
         "-i", str(DATA / "bigbuckbunny.mp4"), "-t", "20",
         "-vf", "scale=1920:1080:flags=bicubic", "-c:v", "libx264", "-preset", "ultrafast",
         "-b:v", "40M", "-maxrate", "40M", "-bufsize", "80M", "-c:a", "aac", "-b:a", "192k", str(base)],
        check=True,
    )  # fmt: skip
    loops = -(-size // base.stat().st_size)
    tmp = out.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(base),
         "-c", "copy", "-fs", str(size), "-movflags", "+faststart", str(tmp)],
        check=True,
    )  # fmt: skip
    base.unlink()
    tmp.rename(out)
    return out


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    assert len(children) == 1, f"one gunicorn worker expected, found {children}"
    return int(children[0])


def rss_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak(pid: int) -> None:
    """VmHWM back to the current RSS (Linux >= 4.0: writing 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def multipart(base: str, clip: Path) -> str:
    """`transcoder submit --no-resume`'s request: the file streamed as the form's one part."""
    return str(Client(base).upload(clip)["id"])


def main() -> int:
    clip = big_video(CLIPS)
    size = clip.stat().st_size
    work = Path(tempfile.mkdtemp(prefix="bench-uploads-", dir=clip.parent))
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    rows: list[dict[str, object]] = []
    try:
        began = time.monotonic()
        subprocess.run(["cp", str(clip), str(work / "copy.mp4")], check=True)
        os.sync()
        cp_seconds = time.monotonic() - began
        (work / "copy.mp4").unlink()
        cp_rate = size / MiB / cp_seconds
        began = time.monotonic()
        expected = subprocess.run(
            ["sha256sum", str(clip)], check=True, capture_output=True, text=True
        ).stdout.split()[0]
        sha_seconds = time.monotonic() - began
        began = time.monotonic()
        probe_and_scan(clip)  # what the last byte's answer waits for, measured alone
        probe_seconds = time.monotonic() - began

        procs = Processes(work)
        env = environment(REDIS_URL, work / "storage", max_upload_bytes=str(2 * size))
        base = start_web(procs, env, "web")
        web = worker_pid(procs.by_name["web"].pid)
        try:
            for name, chunk in (("multipart POST /api/videos", 0), ("tus, 5 MiB chunks", 5 * MiB),
                                ("tus, 50 MiB chunks", 50 * MiB)):  # fmt: skip
                reset_peak(web)
                rss_before, _ = rss_mib(web)
                began = time.monotonic()
                last_patch = None
                if chunk:
                    uploader = Uploader(Client(base), chunk_size=chunk)
                    video_id = uploader.upload(clip)
                    last_patch = uploader.last_answer_seconds
                else:
                    video_id = multipart(base, clip)
                seconds = time.monotonic() - began
                os.sync()
                rss_after, peak = rss_mib(web)
                assert video_id, name
                video = requests.get(f"{base}/api/videos/{video_id}", timeout=30).json()
                rows.append({"row": name, "seconds": seconds, "rate": size / MiB / seconds,
                             "of_cp": size / MiB / seconds / cp_rate, "rss_grew": rss_after - rss_before,
                             "peak_grew": peak - rss_before, "last_patch": last_patch,
                             "sha256": video["source"].get("sha256")})  # fmt: skip
                requests.delete(f"{base}/api/videos/{video_id}", timeout=120)
        except BaseException:
            print((work / "web.log").read_text()[-4000:], file=sys.stderr)
            raise
        finally:
            procs.stop_all()
    finally:
        client.flushdb()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    )
    print(f"\nA {size / GiB:.2f} GiB video ({clip.name}) to one web process over loopback; the file is "
          "on the same disk as the uploads' folders\n")  # fmt: skip
    print("| how | wall | MiB/s | of cp's rate | worker RSS after − before | peak − before "
          "| last PATCH answered in |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| `cp` (the limit) | {cp_seconds:.1f} s | {cp_rate:.0f} | 1.00 | | | |")
    for r in rows:
        last = f"{r['last_patch']:.2f} s" if r["last_patch"] is not None else ""
        print(f"| {r['row']} | {r['seconds']:.1f} s | {r['rate']:.0f} | {r['of_cp']:.2f} "
              f"| {r['rss_grew']:+.1f} MiB | {r['peak_grew']:+.1f} MiB | {last} |")  # fmt: skip
    print(f"\n(Alone, on the same file: `sha256sum` {sha_seconds:.1f} s "
          f"({size / MiB / sha_seconds:.0f} MiB/s); the probe and frame scan an upload's last byte "
          f"waits for (`probe_and_scan`) {probe_seconds:.2f} s; load average "
          f"{os.getloadavg()[0]:.1f} at the end)")  # fmt: skip
    tus50 = rows[-1]
    checks = {
        f"tus 50 MiB at >= {GOAL_RATE} of cp": tus50["of_cp"] >= GOAL_RATE,  # type: ignore[operator]
        f"worker RSS grows < {GOAL_RSS_MIB} MiB": all(r["rss_grew"] < GOAL_RSS_MIB for r in rows),  # type: ignore[operator]
        f"last PATCH within {GOAL_LAST_PATCH_S} s": all(
            r["last_patch"] < GOAL_LAST_PATCH_S
            for r in rows
            if r["last_patch"] is not None  # type: ignore[operator]
        ),
        "every upload's sha256 is sha256sum's": all(r["sha256"] == expected for r in rows),
    }
    for goal, met in checks.items():
        print(f"{goal}: {'met' if met else 'NOT met'}")
    Path("tests/artifacts").mkdir(exist_ok=True)
    Path("tests/artifacts/bench-uploads.json").write_text(
        json.dumps({"cp_seconds": cp_seconds, "rows": rows})
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
