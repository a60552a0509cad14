"""Every output is SDR BT.709: what a source's colour is, and the filters that take it there.

Phones record HDR: HLG (iPhone) or PQ (HDR10, many Android phones). An 8-bit H.264
rendition that keeps those pixels, tagged or not, looks grey and dim in every player. So
HDR is converted, with ``zscale`` and ``tonemap``, the way BT.2408 places SDR in HDR:

- to linear light with 203 nits (HDR reference white) as 1.0, so diffuse white in the
  scene becomes SDR white and everything at or below it keeps its brightness;
- to BT.709 primaries while still linear (where mixing colours is right);
- ``tonemap=mobius`` with ``param=0.8``: linear up to 80 % of SDR white, then a smooth
  roll-off that reaches white at the source's peak (its mastering or content light
  level, else 1,000 nits: HLG's nominal display peak), so highlights fade instead of
  clipping hard; ``desat=0`` keeps their colour;
- back to the BT.709 transfer and matrix, limited range.

SDR sources in BT.601 (old cameras, PAL and NTSC DVDs; and untagged standard
definition, which players take for BT.601) are converted to BT.709 by the ``scale``
that resizes them, so the ladder shows the same colours as the source. This module
is pure, and shared by every encode, the poster and the storyboard.
"""

from __future__ import annotations

from typing import Any

from transcoder.media.probe import MediaInfo

#: Nits of HDR reference white (BT.2408): where SDR white sits in an HDR picture.
REFERENCE_WHITE_NITS = 203.0
#: Assumed peak of an HDR source that does not say its own (HLG's nominal display peak).
DEFAULT_PEAK_NITS = 1000.0
#: Share of SDR white below which tone mapping changes nothing.
ROLL_OFF_FROM = 0.8
#: Output colour tags of every rendition, poster and storyboard (ffmpeg output options).
BT709_TAGS = {"color_primaries": "bt709", "color_trc": "bt709", "colorspace": "bt709", "color_range": "tv"}
#: Scaling a picture that is already BT.709 limited range (a lower rendition from a higher one).
BT709_SCALE = {"in_color_matrix": "bt709", "out_color_matrix": "bt709", "in_range": "tv", "out_range": "tv"}

_BT601_MATRICES = {"smpte170m", "bt470bg"}


def is_bt601(media: MediaInfo) -> bool:
    """Tagged BT.601, or untagged standard definition (what players assume for it)."""
    if media.hdr:
        return False
    if media.color_matrix in _BT601_MATRICES:
        return True
    return media.color_matrix is None and media.coded_height < 720


def peak(media: MediaInfo) -> float:
    """The source's brightest light as a multiple of reference white."""
    return max(media.peak_nits or DEFAULT_PEAK_NITS, REFERENCE_WHITE_NITS) / REFERENCE_WHITE_NITS


def to_sdr(stream: Any, media: MediaInfo) -> Any:
    """HDR tone-mapped to SDR BT.709 (an ffmpeg-python node); SDR is left to ``scale_options``."""
    for name, options in hdr_filters(media):
        stream = stream.filter(name, **options)
    return stream


def hdr_filters(media: MediaInfo) -> list[tuple[str, dict[str, Any]]]:
    """The filters (name, options) that take an HDR source to SDR BT.709; none for SDR."""
    if not media.hdr:
        return []
    matrix_in = "2020_cl" if media.color_matrix == "bt2020c" else "2020_ncl"
    transfer_in = "arib-std-b67" if media.hdr == "hlg" else "smpte2084"
    mapping = {"tonemap": "mobius", "param": ROLL_OFF_FROM, "desat": 0, "peak": round(peak(media), 3)}
    return [
        ("zscale", {"transferin": transfer_in, "primariesin": "2020", "matrixin": matrix_in,
                    "t": "linear", "npl": REFERENCE_WHITE_NITS}),
        ("format", {"pix_fmts": "gbrpf32le"}),
        ("zscale", {"p": "709"}),
        ("tonemap", mapping),
        ("zscale", {"t": "709", "m": "709", "r": "tv"}),
    ]  # fmt: skip


def scale_options(media: MediaInfo, *, jpeg: bool = False) -> dict[str, str]:
    """Options of the ``scale`` that resizes the picture: from the source's matrix (BT.709
    once HDR was converted) to BT.709 limited range, or for a JPEG to BT.601 full range,
    which is what JFIF viewers read."""
    source = "bt601" if is_bt601(media) else "bt709"
    if jpeg:
        return {"in_color_matrix": source, "out_color_matrix": "bt601", "out_range": "full"}
    return {"in_color_matrix": source, "out_color_matrix": "bt709", "out_range": "tv"}
