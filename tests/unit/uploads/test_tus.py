"""The tus headers, parsed strictly: anything malformed is InvalidInput (400), never a crash."""

from __future__ import annotations

import base64
import hashlib

import pytest

from transcoder.errors import InvalidInput, UnsupportedVersion
from transcoder.uploads import tus


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("value,expected", [("0", 0), ("17", 17), ("007", 7), ("9" * 19, int("9" * 19))])
def test_sizes_are_plain_non_negative_decimals(value, expected):
    assert tus.parse_size(value, "Upload-Offset") == expected


@pytest.mark.parametrize(
    "value", [None, "", "-1", "+1", " 1", "1 ", "1_000", "0x10", "1e3", "1.0", "١٢", "9" * 20, "abc"]
)
def test_anything_else_is_a_400(value):
    with pytest.raises(InvalidInput) as refused:
        tus.parse_size(value, "Upload-Offset")
    assert refused.value.code == "bad_tus_header"


def test_metadata_pairs_decode_and_a_key_may_stand_alone():
    header = f"filename {b64('clip é.mp4'.encode())},filetype {b64(b'video/mp4')}, is_confidential"
    found = tus.parse_metadata(header)
    assert found == {"filename": "clip é.mp4".encode(), "filetype": b"video/mp4", "is_confidential": b""}
    assert tus.text_of(found, "filename") == "clip é.mp4"
    assert tus.parse_metadata(None) == {} and tus.parse_metadata("  ") == {}


@pytest.mark.parametrize(
    "header",
    [
        "filename not-base64!",
        "filename YQ",  # base64 without its padding
        "filename YQ==,filename YQ==",  # twice
        "file name YQ==",
        ",",
        "filename YQ==,",
        "fïlename YQ==",
        "filename YQ== extra",
        ",".join(f"k{i} YQ==" for i in range(40)),
    ],
)
def test_malformed_metadata_is_a_400(header):
    with pytest.raises(InvalidInput):
        tus.parse_metadata(header)


def test_a_file_name_must_be_utf8():
    with pytest.raises(InvalidInput):
        tus.text_of({"filename": b"\xff\xfe"}, "filename")


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_checksums_of_both_algorithms(algorithm):
    digest = hashlib.new(algorithm, b"body").digest()
    assert tus.parse_checksum(f"{algorithm} {b64(digest)}") == tus.Checksum(algorithm, digest)
    assert tus.parse_checksum(None) is None


@pytest.mark.parametrize(
    "header",
    [
        "md5 " + b64(hashlib.md5(b"x").digest()),
        "sha256",
        "sha256 ",
        "sha256 !!!!",
        "sha256 " + b64(hashlib.sha1(b"x").digest()),  # a sha1's length
        "SHA256 " + b64(hashlib.sha256(b"x").digest()),
        "",
    ],
)
def test_malformed_checksums_are_a_400(header):
    with pytest.raises(InvalidInput):
        tus.parse_checksum(header)


def test_only_version_1_0_0_is_spoken():
    tus.check_version("1.0.0")
    for other in (None, "", "0.2.2", "1.0.0 "):
        with pytest.raises(UnsupportedVersion):
            tus.check_version(other)


def test_upload_expires_is_an_http_date():
    assert tus.http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert tus.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    with pytest.raises(InvalidInput):
        tus.parse_http_date("tomorrow")


def test_discovery_names_what_the_server_does():
    headers = tus.discovery_headers(1234)
    assert headers["Tus-Extension"] == "creation,creation-with-upload,termination,expiration,checksum"
    assert headers["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert headers["Tus-Max-Size"] == "1234" and headers["Tus-Version"] == "1.0.0"
