import subprocess
import sys

from transcoder.storage import scratch


def test_work_folders_go_when_the_work_ends(tmp_path):
    with scratch.folder(tmp_path) as folder:
        (folder / "out.mp4").write_bytes(b"x")
    assert list(tmp_path.iterdir()) == []


def test_only_folders_of_dead_processes_are_cleaned(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with scratch.folder(tmp_path, "upload") as live:
        left = tmp_path / f"work.{dead.pid}.abc123"
        left.mkdir()
        (left / "source").write_bytes(b"half a download")
        other = tmp_path / "operator-notes"
        other.mkdir()
        assert scratch.clean(tmp_path) == [left]
        assert live.is_dir() and other.is_dir() and not left.exists()
