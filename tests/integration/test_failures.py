"""A rendition that cannot be encoded fails the video with a reason that names it."""

from tasks import workflow
from tasks.celery import make_celery
from tests.support.requests_to_api import wait_terminal
from tests.support.system import prepared_services
from transcoder.storage.layout import source_key
from transcoder.work import actions


def test_missing_source_fails_every_rendition_and_the_video(system, settings, data_dir):
    services = prepared_services(settings)
    with open(data_dir / "bikes.mp4", "rb") as fh:
        video = actions.accept_upload(services, fh, "bikes.mp4", services.users.builtin("local", "admin"))
    # The source vanishes before any worker gets to it (a disk cleaned by hand, say).
    services.storage.path(source_key(video["id"])).unlink()
    workflow.submit(make_celery(settings), video)

    final = wait_terminal(system, video["id"])
    assert final["state"] == "failed"
    assert final["error"]["code"] == "storage_error"
    assert final["error"]["message"].startswith("The 144p, 240p rendition failed: ")
    assert all(r["state"] == "failed" and r["url"] is None for r in final["renditions"])
