"""Cancel and retry through the API."""

import shutil

import requests

from tests.support.requests_to_api import upload, wait_terminal
from transcoder.storage.layout import source_key


def test_retry_runs_only_the_failed_parts_again(system, settings, data_dir, storage_dir):
    video_id = upload(system, data_dir / "bikes.mp4").json()["id"]
    assert wait_terminal(system, video_id)["state"] == "ready"
    conflict = requests.post(f"{system}/api/videos/{video_id}/retry", timeout=10)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"

    # A video whose source vanished fails; put the source back and retry it.
    second = upload(system, data_dir / "bikes.mp4").json()["id"]
    source = storage_dir / source_key(second)
    kept = storage_dir / "kept-source"
    shutil.move(source, kept)
    failed = wait_terminal(system, second)
    assert failed["state"] == "failed"
    shutil.move(kept, source)
    retried = requests.post(f"{system}/api/videos/{second}/retry", timeout=10)
    assert retried.status_code == 202 and retried.json()["state"] == "processing"
    again = wait_terminal(system, second)
    assert again["state"] == "ready" and again["error"] is None


def test_cancel_of_an_ended_video_is_a_conflict(system, data_dir):
    video_id = wait_terminal(system, upload(system, data_dir / "bikes.mp4").json()["id"])["id"]
    response = requests.post(f"{system}/api/videos/{video_id}/cancel", timeout=10)
    assert response.status_code == 409
    assert requests.get(f"{system}/api/videos/{video_id}", timeout=10).json()["state"] == "ready"


def test_cancel_or_delete_of_unknown_video_is_404(system):
    assert requests.post(f"{system}/api/videos/{'0' * 32}/cancel", timeout=10).status_code == 404
    gone = requests.delete(f"{system}/api/videos/{'0' * 32}", timeout=10)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
