"""A video's playlists from its parts' results (pure): they grow while parts are encoded and
close only once every part is there."""

from tests.unit.records.test_transitions import fresh, ids, run
from transcoder.records import states
from transcoder.work import playlists


def results(video, part_id):
    """What a part that encoded its pictures (or its sound) reports: 2 s segments."""
    entry = states.part(video, part_id)
    names = entry["rungs"] or [part_id]
    count = max(1, round((entry["seconds"] or 2.0) / 2))
    written = {
        name: {"init_md5": "same", "stsd_md5": "same", "codecs": "avc1.64001e",
               "segments": [[f"seg_{i:05d}.m4s", 2.0, 1000] for i in range(count)]}
        for name in names
    }  # fmt: skip
    return {"renditions": written, "encoded_frames": entry["frames"]}


def finish(video, part_id):
    assert run(video, part_id, results=results(video, part_id))


def test_nothing_to_play_before_the_first_part_and_the_sound():
    video = fresh()
    assert playlists.media(video, "144p") is None
    assert playlists.master(video) is None


def test_a_playlist_stays_event_until_every_part_is_ready_then_closes():
    video = fresh()
    sound, pictures = ids(video, "audio"), ids(video, "video")
    assert len(pictures) >= 2
    for part_id in sound + pictures[:1]:
        finish(video, part_id)
    growing = playlists.media(video, "144p")
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in growing and "#EXT-X-ENDLIST" not in growing
    assert f"{pictures[0]}/seg_00000.m4s" in growing
    master = playlists.master(video)
    assert master is not None and "144p/index.m3u8" in master

    # A later part ready before an earlier one is not listed: the playlist stops at the gap.
    finish(video, pictures[-1])
    if len(pictures) > 2:
        assert pictures[-1] not in playlists.media(video, "144p")

    for part_id in pictures[1:-1]:
        finish(video, part_id)
    closed = playlists.media(video, "144p")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in closed and closed.endswith("#EXT-X-ENDLIST\n")
    assert all(part_id in closed for part_id in pictures)


def test_the_sound_has_its_own_playlist_named_by_its_group():
    video = fresh()
    [sound] = ids(video, "audio")
    finish(video, sound)
    assert "#EXT-X-ENDLIST" in playlists.media(video, sound)


def test_the_master_names_each_playable_rendition_with_its_size_rates_codecs_and_sound():
    video = fresh()
    sound, pictures = ids(video, "audio"), ids(video, "video")
    for part_id in sound + pictures:
        entry = states.part(video, part_id)
        written = results(video, part_id)
        for n, name in enumerate(entry["rungs"]):
            # Segment sizes differ by rendition, so each one's rates are its own.
            written["renditions"][name]["segments"] = [["seg_00000.m4s", 2.0, 1000 * (n + 1)],
                                                       ["seg_00001.m4s", 2.0, 500 * (n + 1)]]  # fmt: skip
        assert run(video, part_id, results=written)
    master = playlists.master(video)
    lines = master.splitlines()
    [group] = sound
    assert f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{group}",NAME="Sound",DEFAULT=YES,AUTOSELECT=YES,' in master
    streams = [line for line in lines if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(streams) == len(video["renditions"])
    for n, (rendition, line) in enumerate(zip(video["renditions"], streams, strict=True)):
        sound_bps = rendition["audio_bitrate_k"] * 1000
        peak = 1000 * (n + 1) * 8 // 2 + sound_bps
        average = (1500 * (n + 1) * len(pictures)) * 8 // (4 * len(pictures)) + sound_bps
        assert line == (
            f"#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},"
            f'RESOLUTION={rendition["width"]}x{rendition["height"]},CODECS="avc1.64001e,mp4a.40.2",'
            f'NAME="{rendition["name"]}",AUDIO="{group}"'
        )
        assert lines[lines.index(line) + 1] == f"{rendition['name']}/index.m3u8"


def test_a_silent_video_names_no_sound_in_its_master():
    video = fresh()
    video["source"]["has_audio"] = False
    for part_id in ids(video, "video"):
        finish(video, part_id)
    video["parts"] = [p for p in video["parts"] if p["kind"] != "audio"]
    master = playlists.master(video)
    assert "EXT-X-MEDIA" not in master and "AUDIO=" not in master
    assert 'CODECS="avc1.64001e",' in master


def test_a_part_missing_in_the_middle_stops_the_playlist_there():
    video = fresh()
    sound, pictures = ids(video, "audio"), ids(video, "video")
    for part_id in sound + pictures[1:]:
        finish(video, part_id)
    assert playlists.media(video, "144p") is None  # the first part is missing: nothing to play
    finish(video, pictures[0])
    assert playlists.media(video, "144p").count("#EXTINF:") == sum(
        len(results(video, p)["renditions"]["144p"]["segments"]) for p in pictures
    )
