"""`transcoder submit FILE --url BASE --watch` as a person runs it in a terminal."""

import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "transcoder")


def run_cli(*args, timeout=180):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_submit_and_watch_until_ready(system, data_dir):
    done = run_cli("submit", str(data_dir / "bikes.mp4"), "--url", system, "--watch")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    video_id = lines[0]
    assert len(video_id) == 32
    assert lines[1:] == [
        f"{name}: {system}/api/videos/{video_id}/renditions/{name}.mp4" for name in ("144p", "240p")
    ]
    assert "100 %" in done.stderr


def test_refused_file_exits_non_zero_with_the_reason(system, tmp_path):
    junk = tmp_path / "x.mp4"
    junk.write_text("not a video")
    done = run_cli("submit", str(junk), "--url", system, "--watch")
    assert done.returncode == 2
    assert "not_a_video" in done.stderr and "not a video we can read" in done.stderr


def test_unreachable_server_is_reported(tmp_path, data_dir):
    done = run_cli("submit", str(data_dir / "bikes.mp4"), "--url", "http://127.0.0.1:9", timeout=60)
    assert done.returncode == 2
    assert "error" in done.stderr.lower()


def test_watch_and_ls_follow_existing_videos(system, data_dir):
    video_id = run_cli("submit", str(data_dir / "bikes.mp4"), "--url", system).stdout.strip()
    watched = run_cli("watch", video_id, "--url", system)
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.splitlines()[0] == f"144p: {system}/api/videos/{video_id}/renditions/144p.mp4"
    listed = run_cli("ls", "--url", system)
    assert listed.returncode == 0
    header, first = listed.stdout.splitlines()[:2]
    assert header.split() == ["ID", "STATE", "PROGRESS", "DURATION", "NAME"]
    assert first.split() == [video_id, "ready", "100%", "10.0s", "bikes.mp4"]


def test_watch_follows_several_videos_on_one_stream(system, data_dir, lavfi_clip):
    first = run_cli("submit", str(data_dir / "bikes.mp4"), "--url", system).stdout.strip()
    second = run_cli("submit", str(lavfi_clip), "--url", system).stdout.strip()
    watched = run_cli("watch", first, second, "--url", system)
    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    for video_id in (first, second):
        assert f"{video_id} 144p: {system}/api/videos/{video_id}/renditions/144p.mp4" in lines
    # Both videos' bars, told apart by the start of their ids.
    assert first[:8] in watched.stderr and second[:8] in watched.stderr


def test_watch_unknown_video(system):
    done = run_cli("watch", "f" * 32, "--url", system)
    assert done.returncode == 2 and "not_found" in done.stderr


def test_ls_into_a_closed_pipe_exits_quietly(system, data_dir):
    """`transcoder ls | head -1`: the reader leaves early; no traceback, no error line."""
    run_cli("submit", str(data_dir / "bikes.mp4"), "--url", system)
    proc = subprocess.Popen([CLI, "ls", "--url", system], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert stderr == ""
