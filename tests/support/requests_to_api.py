"""What a test asks of a running web app over HTTP: upload, wait for the end, hang up half-way."""

from __future__ import annotations

import socket
from pathlib import Path

import requests

from tests.support.processes import wait_for


def upload(base_url: str, path: Path, name: str | None = None) -> requests.Response:
    with open(path, "rb") as fh:
        return requests.post(f"{base_url}/api/videos", files={"file": (name or path.name, fh)}, timeout=60)


def wait_terminal(base_url: str, video_id: str, timeout: float = 180) -> dict:
    def done():
        video = requests.get(f"{base_url}/api/videos/{video_id}", timeout=10).json()
        return video if video["state"] in ("ready", "failed", "canceled") else None

    return wait_for(done, timeout, f"video {video_id} finishing")


def send_half_an_upload(base_url: str, path: Path) -> None:
    """Start a multipart upload of ``path``, send half of it, and hang up."""
    body = path.read_bytes()
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\n\r\n'
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {len(head) + len(body) + 8}\r\n\r\n".encode()
            + head
            + body[: len(body) // 2]
        )


def uploads_answered(log: Path) -> int:
    """How many uploads the web server whose log is ``log`` has answered (its access log has
    a line for each once it answered). A request answered is over: whatever it was to keep
    is kept by then, so a test that hung up half-way waits for this, not for a while."""
    return log.read_text(errors="replace").count('"POST /api/videos HTTP/1.1"')
