"""The pure parts of `transcoder submit`'s tus client: sizes, headers, which answers to retry,
and the window a PATCH sends from the file."""

import base64
import io

import pytest
import requests

from transcoder.errors import ApiError, InvalidInput
from transcoder.tus_client import (
    BLOCK,
    DEFAULT_CHUNK,
    RETRY_DELAYS,
    MiB,
    Window,
    metadata,
    parse_size,
    upload_offset,
    worth_retrying,
)


@pytest.mark.parametrize(
    ("text", "size"),
    [("52428800", 50 * MiB), ("50M", 50 * MiB), ("50MiB", 50 * MiB), ("5mb", 5 * MiB), ("64k", 65536),
     ("1.5G", 1536 * MiB), (" 7 ", 7), ("1KiB", 1024)],
)  # fmt: skip
def test_sizes_as_people_type_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "-5M", "5 X", "0", "0.1", "50 MiBs", "1e9"])
def test_what_is_not_a_chunk_size(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_default_chunk_is_50_mib():
    assert DEFAULT_CHUNK == parse_size("50M")


def test_metadata_is_base64_pairs_even_for_awkward_names():
    header = metadata("été, à la plage.mp4", "video/mp4")
    pairs = dict(pair.split(" ") for pair in header.split(","))
    assert base64.b64decode(pairs["filename"]).decode() == "été, à la plage.mp4"
    assert base64.b64decode(pairs["filetype"]) == b"video/mp4"
    assert metadata("a.mp4") == "filename " + base64.b64encode(b"a.mp4").decode()


@pytest.mark.parametrize("status", [408, 409, 423, 429, 500, 502, 503, 504])
def test_passing_answers_are_retried(status):
    assert worth_retrying(status)


@pytest.mark.parametrize("status", [200, 204, 400, 401, 403, 404, 410, 412, 413, 415, 460])
def test_refusals_are_not_retried(status):
    assert not worth_retrying(status)


def test_offset_must_be_a_plain_integer():
    headers = requests.structures.CaseInsensitiveDict({"upload-offset": "1234"})
    assert upload_offset(headers) == 1234
    for bad in ({}, {"Upload-Offset": "-1"}, {"Upload-Offset": "12a"}, {"Upload-Offset": ""}):
        with pytest.raises(ApiError) as caught:
            upload_offset(bad)
        assert caught.value.code == "bad_tus_answer"


def test_retries_are_bounded_and_grow():
    assert 5 <= len(RETRY_DELAYS) <= 12
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    assert 30 <= sum(RETRY_DELAYS) <= 120


def test_window_sends_its_slice_a_block_at_a_time():
    data = bytes(range(256)) * (3 * BLOCK // 256 + 7)
    sent = []
    window = Window(io.BytesIO(data), 5, 2 * BLOCK + 3, sent.append)
    assert len(window) == 2 * BLOCK + 3
    blocks = list(window)
    assert b"".join(blocks) == data[5 : 5 + 2 * BLOCK + 3]
    assert max(len(b) for b in blocks) == BLOCK
    assert sent == [5 + BLOCK, 5 + 2 * BLOCK, 5 + 2 * BLOCK + 3]
    assert window.done_at is not None
    # Sent again (a retry of the same request) it starts from its start again.
    assert b"".join(window) == data[5 : 5 + 2 * BLOCK + 3]


def test_window_of_a_file_that_shrank_says_so():
    window = Window(io.BytesIO(b"x" * 10), 0, 20, lambda at: None)
    with pytest.raises(InvalidInput, match="shorter"):
        list(window)
