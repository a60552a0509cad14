"""``transcoder``: submit a video to a running server and follow it in the terminal; run the
autoscaler that keeps local workers following the queue."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from transcoder import brokers, tus_client, upload_urls
from transcoder.accounts import admin_cli
from transcoder.client import Client
from transcoder.errors import TranscoderError
from transcoder.ops.autoscaler import Autoscaler
from transcoder.records import redis_keys
from transcoder.services import build_services
from transcoder.settings import Settings

DEFAULT_URL = "http://127.0.0.1:8000"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="transcoder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    submit = sub.add_parser("submit", help="upload a video")
    submit.add_argument("file", type=Path)
    submit.add_argument("--url", default=DEFAULT_URL, help="the server's base URL")
    submit.add_argument("--watch", action="store_true", help="follow progress until the video ends")
    submit.add_argument(
        "--no-resume",
        action="store_true",
        help="send the file in one multipart request (POST /api/videos) instead of a resumable upload",
    )
    submit.add_argument(
        "--chunk-size",
        type=_chunk_size,
        default=tus_client.DEFAULT_CHUNK,
        metavar="SIZE",
        help="bytes per request of a resumable upload, e.g. 5M or 50MiB (default: 50M); "
        "a dropped connection costs at most one chunk",
    )
    watch = sub.add_parser("watch", help="follow existing videos until they end, on one stream")
    watch.add_argument("ids", nargs="+", metavar="id")
    watch.add_argument("--url", default=DEFAULT_URL, help="the server's base URL")
    ls = sub.add_parser("ls", help="list the most recent videos")
    ls.add_argument("--url", default=DEFAULT_URL, help="the server's base URL")
    rm = sub.add_parser("rm", help="delete videos: running ones are canceled; files and records go")
    rm.add_argument("ids", nargs="+", metavar="id")
    rm.add_argument("--url", default=DEFAULT_URL, help="the server's base URL")
    for command in (submit, watch, ls, rm):
        command.add_argument(
            "--api-key",
            default=os.environ.get("TRANSCODER_API_KEY"),
            help="sent as a Bearer token (default: $TRANSCODER_API_KEY)",
        )
    scale = sub.add_parser("autoscale", help="keep local workers at ceil(waiting parts / per-worker)")
    scale.add_argument("--min", type=int, default=1, help="workers kept even when nothing waits")
    scale.add_argument("--max", type=int, required=True, help="most workers on this machine")
    scale.add_argument("--per-worker", type=int, default=2, help="waiting parts per worker")
    scale.add_argument("--interval", type=float, default=2.0, help="seconds between two looks")
    scale.add_argument(
        "--cooldown", type=float, default=30.0, help="seconds of less work before scaling down"
    )
    scale.add_argument("--queues", default=",".join(redis_keys.QUEUES), help="queues the workers take")
    admin_cli.add_commands(sub)
    args = parser.parse_args(argv)

    console = Console(stderr=True)
    client = Client(args.url, api_key=args.api_key) if hasattr(args, "url") else None
    try:
        code = _run(args, client, console)
        # Inside the try: a reader that has gone shows here, not as a traceback at exit.
        sys.stdout.flush()
        return code
    except TranscoderError as exc:
        console.print(f"[red]error[/red] ({exc.code}): {exc.message}")
        return 2
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:
        console.print(f"[red]error[/red]: {exc}")
        return 2


def _run(args: argparse.Namespace, client: Client | None, console: Console) -> int:
    if args.command in ("users", "keys"):
        return admin_cli.run(args, Settings.from_env())
    if args.command == "autoscale":
        return _autoscale(args)
    assert client is not None  # every other command has --url, so a client
    if args.command == "submit":
        return _submit(client, args, console)
    if args.command == "watch":
        return watch_videos(client, args.ids, console)
    if args.command == "rm":
        for video_id in args.ids:
            client.delete(video_id)
            print(f"deleted {video_id}")
        return 0
    return _list(client)


def _reader_gone() -> int:
    """The reader of our output has gone (``transcoder ls | head``): stop quietly, as Unix tools do.

    Standard output is pointed at /dev/null so the flush at exit cannot fail again and print
    a traceback; 141 is what a shell reports for a program stopped by SIGPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def _autoscale(args: argparse.Namespace) -> int:
    """Runs until SIGTERM or Ctrl-C, then stops its workers gracefully (running encodes finish)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services = build_services(Settings.from_env(), patient=True)
    settings = services.settings
    broker = brokers.of(settings)
    encodes = [q for q in broker.queues() if q != redis_keys.FINALIZE_QUEUE]
    scaler = Autoscaler(
        services.redis,
        services.videos,
        minimum=args.min,
        maximum=args.max,
        per_worker=args.per_worker,
        queues=args.queues,
        cooldown=args.cooldown,
        waiting=lambda: sum(broker.waiting(services.redis, encodes).values()),
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scaler.run(args.interval, stop, out=lambda line: print(line, flush=True))
    return 0


def _chunk_size(text: str) -> int:
    try:
        return tus_client.parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _submit(client: Client, args: argparse.Namespace, console: Console) -> int:
    video_id = _upload(client, args.file, console, resume=not args.no_resume, chunk_size=args.chunk_size)
    print(video_id, flush=True)
    if not args.watch:
        return 0
    return watch_videos(client, [video_id], console)


def _upload(client: Client, path: Path, console: Console, *, resume: bool, chunk_size: int) -> str:
    """A resumable upload (tus) with a bar, its URL kept until it ends so another run goes on
    from the server's offset; or, with ``resume`` off or a server without ``/api/uploads/``,
    one multipart request."""
    if not resume:
        return str(client.upload(path)["id"])
    store = upload_urls.UrlStore(upload_urls.default_path(os.environ))
    columns = (TextColumn("{task.description:>5}"), BarColumn(), DownloadColumn(binary_units=True),
               TransferSpeedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=False) as bars:
        task = bars.add_task("upload", total=path.stat().st_size)
        uploader = tus_client.Uploader(
            client,
            chunk_size=chunk_size,
            store=store,
            progress=lambda sent, total: bars.update(task, completed=sent, total=total),
            notice=lambda line: bars.console.print(line),
        )
        try:
            video_id = uploader.upload(path)
        except KeyboardInterrupt:
            bars.stop()
            console.print("Stopped. Run the same command again to go on from where the server stands.")
            raise SystemExit(130) from None
    if video_id is None:
        console.print(
            "This server has no resumable uploads (/api/uploads/): sending the file in one request."
        )
        return str(client.upload(path)["id"])
    return video_id


def _list(client: Client) -> int:
    videos = client.videos()
    if not videos:
        print("No videos yet.")
        return 0
    print(f"{'ID':<32}  {'STATE':<10}  {'PROGRESS':>8}  {'DURATION':>8}  NAME")
    for v in videos:
        duration = f"{v['source']['duration']:.1f}s"
        print(f"{v['id']:<32}  {v['state']:<10}  {v['progress']:>7.0f}%  {duration:>8}  {v['filename']}")
    return 0


def watch_videos(client: Client, video_ids: list[str], console: Console) -> int:
    """Draw one bar per rendition until every video ends; 0 when all are ready, else 1."""
    final: dict[str, dict[str, Any]] = {}
    many = len(set(video_ids)) > 1
    columns = (TextColumn("{task.description:>5}"), BarColumn(), TextColumn("{task.fields[info]}"))
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[tuple[str, str], TaskID] = {}
        for video in client.follow(*video_ids):
            for r in video["renditions"]:
                key = (video["id"], r["name"])
                if key not in tasks:
                    label = f"{video['id'][:8]} {r['name']}" if many else r["name"]
                    tasks[key] = bars.add_task(label, total=100, info="")
                bars.update(tasks[key], completed=r["progress"], info=_info(r))
            final[video["id"]] = video
    code = 0
    for video_id in dict.fromkeys(video_ids):
        video = final.get(video_id, {})
        prefix = f"{video_id} " if many else ""
        if video.get("state") == "ready":
            for r in video["renditions"]:
                print(f"{prefix}{r['name']}: {client.base}{r['url']}" if r["url"] else prefix + r["name"])
            continue
        code = 1
        error = video.get("error") or {}
        console.print(
            f"{prefix}[red]{video.get('state')}[/red] ({error.get('code')}): {error.get('message')}"
        )
    return code


def _info(r: dict[str, Any]) -> str:
    if r["state"] == "failed":
        return f"failed: {(r.get('error') or {}).get('message', '')}"
    parts = [f"{r['progress']:.0f} %", r["state"]]
    if r.get("fps"):
        parts.append(f"{r['fps']:.0f} fps")
    if r.get("eta_seconds") is not None and r["state"] == "running":
        parts.append(f"ETA {r['eta_seconds']:.0f} s")
    return " · ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
