"""What we accept, and the options that bind ffmpeg and ffprobe to it (pure)."""

from pathlib import Path

import pytest

from transcoder.errors import InvalidInput
from transcoder.media import policy
from transcoder.media.policy import Limits

SMALL = Limits(max_duration=60, max_pixels=1920 * 1080, max_fps=60, max_streams=4, ffmpeg_cpu_seconds=30)


def test_media_within_every_limit_passes():
    policy.check(60, 1920, 1080, 60, 4, SMALL)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((60, 1920, 1080, 60, 5), "too_many_streams", "This file has 5 streams; we accept at most 4."),
        ((60, 1920, 1082, 60, 4), "too_many_pixels",
         "The picture is 1920x1082, larger than we accept (2,073,600 pixels, about 4K)."),
        ((3725.5, 1920, 1080, 60, 4), "too_long", "The video is 1:02:05 long; we accept at most 0:01:00."),
        ((60, 1920, 1080, 60.5, 4), "frame_rate_too_high",
         "The video has 60.5 frames per second; we accept at most 60."),
    ],
)  # fmt: skip
def test_each_limit_is_refused_with_its_code_and_a_sentence(args, code, message):
    with pytest.raises(InvalidInput) as refused:
        policy.check(*args, SMALL)
    assert (refused.value.code, refused.value.message) == (code, message)


def test_only_the_codecs_we_name_are_accepted():
    policy.check_codecs("h264", "aac")
    policy.check_codecs("hevc", None)
    with pytest.raises(InvalidInput, match="The video is encoded as 'gif', which we do not accept."):
        policy.check_codecs("gif", "aac")
    with pytest.raises(InvalidInput, match="The sound is encoded as 'tta', which we do not accept."):
        policy.check_codecs("h264", "tta")


def test_files_are_named_to_ffmpeg_absolute_behind_file():
    assert policy.local_input("-i") == "file:" + str(Path("-i").resolve())
    assert policy.local_input(Path("/a/b.mp4")) == "file:/a/b.mp4"


def test_every_ffmpeg_and_ffprobe_is_bound_to_local_files_our_demuxers_and_caps():
    assert policy.input_options(SMALL) == {
        "protocol_whitelist": "file",
        "format_whitelist": "mov,matroska,avi,mpegts,flv,ogg,mxf,mpeg",
        "max_pixels": 1920 * 1080,
    }
    assert policy.command_head(SMALL) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-timelimit", "30", "-y", "-nostats",
        "-progress", "pipe:1",
    ]  # fmt: skip
    assert policy.ffprobe_head() == [
        "ffprobe", "-v", "error", "-protocol_whitelist", "file", "-format_whitelist",
        "mov,matroska,avi,mpegts,flv,ogg,mxf,mpeg",
    ]  # fmt: skip
    assert policy.ffprobe_head("mov")[-1] == "mov"


def test_only_a_url_we_presigned_may_be_read_over_the_network():
    signed = policy.SignedUrl("https://bucket.s3.amazonaws.com/uploads/x/source?X-Amz-Signature=ab")
    assert policy.local_input(signed) == str(signed)
    assert policy.ffprobe_head(source=signed)[3:5] == ["-protocol_whitelist", "https,tls,tcp"]
    assert policy.ffprobe_head(source=policy.SignedUrl("http://minio:9000/v/s"))[4] == "http,tcp"
    # The same text as a plain string or path stays a local file name, bound to local files.
    plain = "https://example.com/x.mp4"
    assert policy.local_input(plain).startswith("file:/")
    assert policy.ffprobe_head(source=plain)[4] == "file"
    assert policy.ffprobe_head(source=Path("/a/b.mp4"))[4] == "file"
    with pytest.raises(ValueError):
        policy.SignedUrl("file:/etc/passwd")
