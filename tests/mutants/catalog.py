"""Named breakages of the mechanisms behind our guarantees, and the tests that must catch each.

A mutant is a textual change to one copy of the code that switches one mechanism off.
Each must be *killed*: at least one of its tests fails on the broken copy. A mutant
whose text no longer matches the code fails loudly, so the catalog follows the code.
``quick`` mutants are killed by tests that need neither the shared system nor a fault
cluster; `make test` runs those, `make mutants` runs all.
"""

from __future__ import annotations

from dataclasses import dataclass

TRIALS = "tests/faults/test_faults.py"
DOOR = "tests/integration/test_door.py"
ACCOUNTS = "tests/integration/test_accounts.py"
REVOKE = "tests/integration/test_revocation.py"
FLOOD = "tests/integration/test_flood.py"
BODIES = "tests/integration/test_bodies.py"
WEAK = "tests/integration/test_weaknesses.py"
FUZZ = "tests/integration/test_fuzz.py"
TUS = "tests/integration/test_tus.py"
S3_STAGING = "tests/integration/test_s3_staging.py"
DEDUPE = "tests/integration/test_dedupe.py"
PAGE_TUS = "tests/browser/test_resumable_upload.py"
CLI_RESUME = "tests/integration/test_cli_resume.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    mechanism: str
    #: (file, text in the code, text it becomes); each text must occur exactly once.
    edits: tuple[tuple[str, str, str], ...]
    #: pytest node ids or -k expressions (prefixed "-k ") run against the broken copy.
    tests: tuple[str, ...]
    quick: bool = False


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "lease_always_granted",
        "a part's lease (two deliveries never both encode)",
        (
            (
                "transcoder/records/leases.py",
                "return bool(self.redis.set(self.key, self.token, nx=True, px=self.millis))",
                "return bool(self.redis.set(self.key, self.token, px=self.millis))",
            ),
        ),
        ("tests/integration/test_leases.py", f"{TRIALS}::test_duplicate_delivery"),
        quick=True,
    ),
    Mutant(
        "pdeathsig_off",
        "ffmpeg dies with its worker process (PR_SET_PDEATHSIG)",
        (("transcoder/media/process.py", "_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)", "pass"),),
        (
            "tests/integration/test_ffmpeg_process.py::test_ffmpeg_dies_with_the_process_that_started_it",
            f"{TRIALS}::test_kill_pool_process",
        ),  # fmt: skip
        quick=True,
    ),
    Mutant(
        "sweeper_off",
        "the sweeper re-queues parts whose worker died",
        (
            (
                "transcoder/work/lost_work.py",
                "for video in services.videos.active_videos():",
                "for video in services.videos.active_videos()[:0]:",
            ),
        ),
        ("tests/integration/test_sweeper.py", f"{TRIALS}::test_kill_whole_worker"),
        quick=True,
    ),
    Mutant(
        "stall_watchdog_off",
        "a stalled ffmpeg is killed and its part retried",
        (
            (
                "transcoder/media/process.py",
                "elif self._stalled(now):",
                "elif False:",
            ),
        ),
        (
            "tests/integration/test_ffmpeg_process.py::test_a_stalled_ffmpeg_is_killed",
            f"{TRIALS}::test_stalled_ffmpeg",
        ),  # fmt: skip
        quick=True,
    ),
    Mutant(
        "cancel_ignored",
        "a cancel stops every running ffmpeg of the video",
        (
            (
                "transcoder/media/process.py",
                "elif watch.should_stop and self._ask(watch.should_stop):",
                "elif False:",
            ),
        ),
        (
            "tests/integration/test_ffmpeg_process.py::test_a_cancel_kills_ffmpeg_at_once",
            f"{TRIALS}::test_cancel",
        ),  # fmt: skip
        quick=True,
    ),
    Mutant(
        "encodes_canceled_on_broker_loss",
        "a Redis restart of a few seconds costs no re-encode",
        (
            (
                "tasks/config.py",
                '"worker_cancel_long_running_tasks_on_connection_loss": False,',
                '"worker_cancel_long_running_tasks_on_connection_loss": True,',
            ),
        ),
        ("tests/unit/tasks/test_config.py", f"{TRIALS}::test_redis_restart"),
        quick=True,
    ),
    Mutant(
        "transient_made_permanent",
        "passing trouble (ffmpeg killed, stalled) is retried",
        (
            (
                "transcoder/work/runner.py",
                "        if isinstance(exc, Transient):\n",
                "        if isinstance(exc, ArithmeticError):\n",
            ),
        ),
        (f"{TRIALS}::test_kill_ffmpeg",),
    ),
    Mutant(
        "outputs_written_in_place",
        "outputs are written under temporary names and renamed into place",
        (
            (
                "transcoder/storage/local.py",
                'tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")\n        try:\n'
                "            yield tmp\n            if not tmp.exists():",
                "tmp = final\n        try:\n            yield tmp\n            if not tmp.exists():",
            ),
            (
                "transcoder/storage/local.py",
                "        finally:\n            tmp.unlink(missing_ok=True)",
                "        finally:\n            pass",
            ),
        ),
        ("tests/unit/storage/test_local.py", f"{TRIALS}::test_disk_full"),
        quick=True,
    ),
    Mutant(
        "deinterlace_off",
        "interlaced sources are deinterlaced",
        (
            (
                "transcoder/media/commands.py",
                'video.filter("bwdif") if media.interlaced else video',
                "video",
            ),
        ),
        ("tests/inputs/test_inputs.py::test_case[interlaced_ntsc]",),
    ),
    Mutant(
        "autorotate_off",
        "phone videos are turned upright (the display matrix is applied)",
        (
            (
                "transcoder/media/commands.py",
                "source = ffmpeg.input(local_input(src), **options)",
                "source = ffmpeg.input(local_input(src), noautorotate=None, **options)",
            ),
        ),
        ("tests/inputs/test_inputs.py::test_case[rotated_90]",),
    ),
    Mutant(
        "hdr_not_tone_mapped",
        "HLG and PQ sources are tone-mapped to SDR BT.709",
        (
            (
                "transcoder/media/color.py",
                "    if not media.hdr:\n        return []",
                "    if True:\n        return []",
            ),
        ),
        ("tests/integration/test_hdr.py::test_hdr_renditions_and_poster_look_like_the_sdr_scene",),
    ),
    Mutant(
        "highlights_clipped",
        "HDR highlights above SDR white are rolled off, not clipped",
        (("transcoder/media/color.py", '"tonemap": "mobius"', '"tonemap": "clip"'),),
        ("tests/integration/test_hdr.py::test_highlights_above_white_roll_off_instead_of_clipping",),
    ),
    Mutant(
        "bt601_not_converted",
        "BT.601 sources are converted to BT.709",
        (
            (
                "transcoder/media/color.py",
                'source = "bt601" if is_bt601(media) else "bt709"',
                'source = "bt709"',
            ),
        ),
        ("tests/integration/test_hdr.py::test_a_bt601_source_keeps_its_colours_in_bt709",),
    ),
    Mutant(
        "parts_not_cut_to_their_frames",
        "each part encodes exactly its frames, so no frame is doubled or lost at a seam",
        (("transcoder/media/commands.py", '.filter("trim", end_frame=part.frames)', ""),),
        ("tests/integration/test_seams.py::test_chunks_join_frame_exact_with_the_sound_in_sync",),
    ),
    Mutant(
        "keyframe_seek_off",
        "a part decodes from the keyframe it needs, not from the one before it",
        (
            (
                "transcoder/media/commands.py",
                "landing = part.keyframe_seek is not None and part.seek is not None",
                "landing = False",
            ),
        ),
        ("tests/integration/test_part_decode.py",),
    ),
    Mutant(
        "poster_weighs_every_frame",
        "the poster's search weighs its candidates once, not every later frame of its part",
        (("transcoder/media/commands.py", '.filter("trim", end_frame=POSTER_CANDIDATES)', ""),),
        ("tests/integration/test_part_decode.py::test_the_poster_is_picked_once_from_its_candidates",),
    ),
    Mutant(
        "chunks_cut_between_keyframes",
        "a later chunk starts on a source keyframe up to half a chunk away, not between two",
        (
            (
                "transcoder/media/planner.py",
                "FIRST_CHUNK_WINDOW_S if len(starts) == 1 else chunk_s / 2",
                "FIRST_CHUNK_WINDOW_S if len(starts) == 1 else chunk_s / 4",
            ),
        ),
        ("tests/unit/media/test_planner.py::test_later_chunks_start_on_a_keyframe_up_to_half_a_chunk_away",),
    ),
    Mutant(
        "every_part_decodes_on_every_core",
        "a part beside others decodes on one thread; the first chunk on every core",
        (("transcoder/work/encode.py", 'return threads if entry.get("urgent") else 1', "return threads"),),
        ("tests/unit/work/test_encode.py",),
    ),
    Mutant(
        "broker_url_ignored",
        "the parts travel on the broker TRANSCODER_BROKER_URL names (RabbitMQ, SQS), not on Redis",
        (
            (
                "tasks/config.py",
                '"broker_url": broker.celery_url(),',
                '"broker_url": settings.redis_url,',
            ),
        ),
        ("tests/integration/test_brokers.py::test_videos_travel_on_the_broker_each_part_run_once",),
    ),
    Mutant(
        "broker_not_required_at_start",
        "RabbitMQ or SQS that does not answer stops a worker, the web app and `make run` at start",
        (
            (
                "transcoder/brokers/base.py",
                "if not self.apart:\n            return\n        try:",
                "return\n        try:",
            ),
        ),
        (
            "tests/integration/test_brokers.py::test_a_broker_that_does_not_answer_stops_the_worker_and_the_web_app_at_start",
        ),
    ),
    Mutant(
        "urgent_parts_anywhere_on_sqs",
        "on SQS, what makes a video playable travels on a queue of its own",
        (("tasks/workflow.py", "if brokers.named(broker_url).keeps_order:", "if True:"),),
        ("tests/unit/tasks/test_workflow.py",),
        quick=True,
    ),
    Mutant(
        "urgent_not_taken_with_parts",
        "a worker that takes the parts queue takes the urgent one too (SQS)",
        (("tasks/celery.py", "queues.select_add(queues[URGENT_QUEUE])", "pass"),),
        ("tests/integration/test_brokers.py::test_videos_travel_on_the_broker_each_part_run_once",),
    ),
    Mutant(
        "late_copy_starts_a_fourth_attempt",
        "a copy that comes before the sweeper never starts a part past TRANSCODER_MAX_ATTEMPTS",
        (
            (
                "transcoder/records/transitions.py",
                'entry["state"] == PartState.RUNNING and max_attempts is not None',
                "False",
            ),
        ),
        ("tests/unit/records/test_transitions.py",),
        quick=True,
    ),
    Mutant(
        "closed_websocket_keeps_its_place",
        "a WebSocket its client closed ends its stream and frees its place under the per-client cap",
        (
            (
                "web/live/ws.py",
                "with app.app_context():\n            streams.hub().close(follower)",
                "if True:\n            streams.hub().close(follower)",
            ),
        ),
        ("tests/integration/test_live.py::test_per_client_cap_idle_timeout_and_held_connections",),
    ),
    Mutant(
        "sqs_worker_keeps_what_it_cannot_start",
        "on SQS a worker hands back at once what a poll brought beyond its free slots",
        (("tasks/sqs_transport.py", "if free is None or len(received) <= free:", "if True:"),),
        (
            "tests/integration/test_sqs_transport.py::test_what_a_poll_brings_beyond_the_free_slots_is_handed_back_at_once",
            "tests/faults/test_broker_faults.py::test_duplicate_delivery_on_another_broker",
        ),
    ),
    Mutant(
        "sqs_held_messages_not_renewed",
        "on SQS a live worker keeps hiding what it holds past the queue's short visibility timeout",
        (("tasks/sqs_transport.py", "while not stop.wait(hold_s / 3):", "while False:"),),
        ("tests/integration/test_sqs_transport.py",),
    ),
    Mutant(
        "sqs_visibility_outlasts_every_run",
        "on SQS a dead worker's messages show again within a lease, not after the longest run",
        (
            (
                "transcoder/brokers/sqs.py",
                '"visibility_timeout": self.hold_seconds,',
                '"visibility_timeout": settings.visibility_timeout,',
            ),
        ),
        ("tests/unit/tasks/test_config.py",),
        quick=True,
    ),
    Mutant(
        "sqs_keeper_dies_on_an_error",
        "on SQS the keeper of held messages logs a round that failed and carries on",
        (
            (
                "tasks/sqs_transport.py",
                "try:\n                renew()\n            except Exception:",
                "if True:\n                renew()\n            if False:",
            ),
        ),
        ("tests/unit/tasks/test_sqs_transport.py::test_the_keeper_logs_an_error_and_carries_on",),
        quick=True,
    ),
    Mutant(
        "kombu_private_names_unchecked",
        "a kombu without a private name the SQS transport relies on is refused at start, naming it",
        (("tasks/sqs_transport.py", "if gaps := kombu_gaps():", "if False:"),),
        ("tests/unit/tasks/test_sqs_transport.py",),
        quick=True,
    ),
    Mutant(
        "parts_not_on_one_timeline",
        "each part's segments carry the video's own timestamps, so parts play and join as one stream",
        (("transcoder/media/commands.py", '"hls_segment_options": "movflags=+frag_discont",', ""),),
        ("tests/integration/test_seams.py::test_chunks_join_frame_exact_with_the_sound_in_sync",),
    ),
    Mutant(
        "close_by_every_part",
        "a video is closed once, by the part whose end ends it",
        (
            (
                "tasks/transcode.py",
                "    if outcome.ended:\n        close.delay(video_id)",
                "    close.delay(video_id)",
            ),
        ),
        ("tests/integration/test_workers.py",),
    ),
    Mutant(
        "seq_not_raised",
        "every change is a new snapshot with a higher sequence number",
        (("transcoder/records/videos.py", '                    video["seq"] += 1\n', ""),),
        ("tests/integration/test_store.py::test_each_change_raises_seq_and_publishes_the_stored_snapshot",),
        quick=True,
    ),
    Mutant(
        "attempts_not_counted",
        "a part's starts are counted, so a bad input stops after TRANSCODER_MAX_ATTEMPTS",
        (("transcoder/records/transitions.py", '    entry["attempts"] += 1\n', ""),),
        ("tests/unit/records/test_transitions.py", f"{TRIALS}::test_kill_pool_process"),
        quick=True,
    ),
    Mutant(
        "backoff_off",
        "retries wait 2, 4, 8... seconds (at most 60) between attempts",
        (("transcoder/work/retry.py", "return min(2.0**exponent, MAX_BACKOFF_S)", "return 0.0"),),
        ("tests/unit/work/test_retry.py",),
        quick=True,
    ),
    Mutant(
        "cache_floor_off",
        "a slow reader cannot put an old copy of a video back in the cache",
        (("transcoder/records/cache.py", "if tonumber(ARGV[2]) < floor then return -1 end", ""),),
        ("tests/integration/test_store.py",),
    ),
    Mutant(
        "cache_floor_off_direct",
        "a slow reader cannot put an old copy of a video back in the cache (the cache's own test)",
        (
            (
                "transcoder/records/cache.py",
                "local floor = tonumber(redis.call('get', KEYS[2]) or '0')",
                "local floor = 0",
            ),
        ),
        ("tests/integration/test_cache.py",),
        quick=True,
    ),
    Mutant(
        "join_frame_check_off",
        "a joined rendition that lost a part's pictures is refused, never made ready",
        (("transcoder/work/join.py", "if found != expected:", "if False:"),),
        ("tests/unit/work/test_join.py",),
        quick=True,
    ),
    Mutant(
        "part_outputs_not_checked",
        "a part whose segments were not all written (a full disk) is never made ready",
        (
            (
                "transcoder/work/encode.py",
                "if not segments or 0 in sizes.values() or not init.exists():",
                "if False:",
            ),
        ),
        ("tests/unit/work/test_encode.py",),
        quick=True,
    ),
    Mutant(
        "playlist_closed_early",
        "a rendition's playlist stays EVENT, with no end, until every one of its parts is ready",
        (
            (
                "transcoder/work/playlists.py",
                '        if part["state"] != states.PartState.READY:\n            return outputs, False\n',
                '        if part["state"] != states.PartState.READY:\n            return outputs, True\n',
            ),
        ),
        ("tests/unit/work/test_playlists.py",),
        quick=True,
    ),
    Mutant(
        "record_goes_back",
        "the database keeps a video's snapshot only if it is newer than the one it has",
        (("transcoder/records/catalog.py", 'if row is not None and row.seq >= video["seq"]:', "if False:"),),
        ("tests/integration/test_catalog.py::test_a_record_never_goes_back_to_an_older_snapshot",),
    ),
    Mutant(
        "recovery_off",
        "after Redis lost everything, unfinished videos are put back and their work sent again",
        (
            (
                "transcoder/work/recovery.py",
                "if r.exists(redis_keys.LOADED) or not r.set(",
                "if True or not r.set(",
            ),
        ),
        ("tests/integration/test_recovery.py",),
    ),
    Mutant(
        "catch_up_off",
        "changes the database missed while it was down are written when it is back",
        (
            (
                "transcoder/records/videos.py",
                '            self.redis.sadd(redis_keys.BEHIND, video["id"])\n',
                "",
            ),
        ),
        (
            "tests/integration/test_store.py::test_changes_made_while_the_database_is_down_reach_it_when_it_is_back",
        ),
    ),
    Mutant(
        "one_prefix_for_every_database",
        "installations on different Redis databases name their keys and channels apart",
        (
            (
                "transcoder/records/redis_keys.py",
                "return f\"transcoder:{parse_url(redis_url).get('db', 0)}\"",
                'return "transcoder"',
            ),
        ),
        (f"{DOOR}::test_two_installations_on_one_redis_server_share_nothing",),
    ),
    Mutant(
        "celery_keys_unprefixed",
        "Celery's own queues and keys carry the installation prefix",
        (("tasks/config.py", 'prefix = {"global_keyprefix": redis_keys.queue_key("")}', "prefix = {}"),),
        (
            "tests/unit/records/test_redis_keys.py",
            f"{DOOR}::test_two_installations_on_one_redis_server_share_nothing",
        ),
    ),
    Mutant(
        "any_host_served",
        "only allowed host names are served (DNS rebinding)",
        (("web/middleware/hosts.py", "if not host_allowed(request.host, host_names):", "if False:"),),
        (f"{DOOR}::test_only_allowed_host_names_are_served",),
    ),
    Mutant(
        "any_origin_accepted",
        "a request naming another site as its Origin is refused (the WebSocket's handshake too)",
        (
            (
                "web/auth/csrf.py",
                "    return parts.scheme.lower() == request.scheme and netloc == request.host and "
                "host_allowed(netloc, names)",
                "    return True",
            ),
        ),
        (f"{DOOR}::test_a_foreign_page_cannot_open_the_websocket", "tests/integration/test_security.py"),
    ),
    Mutant(
        "websocket_messages_unbounded",
        "a WebSocket message over 64 KiB closes the connection before it is held",
        (("web/live/ws.py", '"max_message_size": MAX_MESSAGE_BYTES,', '"max_message_size": None,'),),
        (f"{DOOR}::test_an_oversized_websocket_message_closes_the_connection",),
    ),
    Mutant(
        "trickling_uploads_kept",
        "an upload slower than the least rate is cut",
        (
            (
                "web/middleware/upload_rate.py",
                "if self.rate < self.min_rate and not self._done.is_set():",
                "if False:",
            ),
        ),
        ("tests/unit/web/middleware/test_upload_rate.py", f"{DOOR}::test_an_upload_that_trickles_is_cut"),
    ),
    Mutant(
        "measured_duration_unchecked",
        "the length the frames measure is checked against the limits, as the claimed one is",
        (
            (
                "transcoder/work/actions.py",
                "policy.check_duration(found.duration, limits)",
                "pass",
            ),
        ),
        ("tests/inputs/test_inputs.py::test_case[lying_duration]",),
    ),
    Mutant(
        "library_pages_unbounded",
        "at most 1,000 library pages are cached, whatever is searched",
        (
            (
                "transcoder/records/cache.py",
                "while redis.call('llen', KEYS[2]) > tonumber(ARGV[3]) do",
                "while false do",
            ),
        ),
        ("tests/integration/test_cache.py::test_searching_cannot_fill_redis_with_pages",),
        quick=True,
    ),
    Mutant(
        "everyone_sees_every_video",
        "an uploader sees, downloads and deletes only their own videos",
        (("web/auth/access.py", 'return user.admin or video.get("owner") == user.id', "return True"),),
        (f"{ACCOUNTS}::test_every_route_answers_only_to_its_user",),
    ),
    Mutant(
        "streams_carry_everyones_videos",
        "live streams carry only their user's videos",
        (
            (
                "transcoder/live/follower.py",
                "if self.owner is not None and snap.owner != self.owner:",
                "if False:",
            ),
        ),
        (f"{ACCOUNTS}::test_live_streams_carry_only_the_users_own_videos",),
    ),
    Mutant(
        "no_sign_in_needed",
        "nothing but the public endpoints answers without a user",
        (("web/auth/identity.py", "    if not auth_on:", "    if True:"),),
        (
            f"{ACCOUNTS}::test_every_route_answers_only_to_its_user",
            f"{ACCOUNTS}::test_a_page_fetched_without_signing_in_gives_no_api",
        ),
    ),
    Mutant(
        "csrf_unchecked",
        "a session's unsafe requests carry the page's CSRF token",
        (
            (
                "web/auth/identity.py",
                "            check_csrf()\n",
                "            pass\n",
            ),
        ),
        (f"{ACCOUNTS}::test_sign_in_cookie_rotation_sign_out_and_a_restart",),
    ),
    Mutant(
        "csrf_token_read_out_of_uploads",
        "the CSRF token is never read out of a multipart body (parsing it would spool the upload first)",
        (
            (
                "web/auth/csrf.py",
                "    if sent is None and request.mimetype == FORM_TYPE:",
                "    if sent is None:",
            ),
        ),
        (f"{BODIES}::test_the_csrf_token_of_an_upload_comes_in_its_header_never_out_of_its_body",),
    ),
    Mutant(
        "bodies_unlimited",
        "a route that takes no file refuses a body over 64 KiB before reading it (chunked: once past it)",
        (("web/middleware/bodies.py", "        limit_body()\n", "        pass\n"),),
        (
            f"{BODIES}::test_a_huge_sign_in_or_anonymous_upload_is_refused_before_its_body",
            f"{BODIES}::test_a_body_without_a_length_is_cut_at_the_routes_limit",
        ),
    ),
    Mutant(
        "refused_bodies_drained",
        "a refused body is not read to its end: the answer is sent and the connection closed",
        (("web/server.py", "        req.force_close()\n", "        pass\n"),),
        (f"{BODIES}::test_a_refused_body_is_not_read_to_its_end",),
    ),
    Mutant(
        "upload_without_length_weighed_whole",
        "an upload that states no length is weighed against the quota as it arrives, not once read whole",
        (("web/middleware/bodies.py", "        stream.check = check\n", "        pass\n"),),
        (f"{BODIES}::test_an_upload_without_a_length_is_cut_once_past_the_quota",),
    ),
    Mutant(
        "sign_out_leaves_the_session",
        "signing out ends the session on the server, not only in the browser",
        (
            (
                "transcoder/accounts/users.py",
                "session.execute(delete(SessionRow).where(SessionRow.id == token_hash(token)))",
                "pass",
            ),
        ),
        (f"{ACCOUNTS}::test_sign_in_cookie_rotation_sign_out_and_a_restart",),
    ),
    Mutant(
        "streams_outlive_sign_out",
        "signing out ends the live streams the session has open in other tabs, within a keep-alive",
        (("web/auth/identity.py", "    revocation.revocations().session_ended(ended)", "    pass"),),
        (f"{REVOKE}::test_signing_out_ends_the_sessions_streams_only",),
    ),
    Mutant(
        "streams_keep_a_revoked_key",
        "a live stream opened with an API key ends when the key is revoked",
        (
            (
                "web/auth/revocation.py",
                "verdict = lambda: svc.keys.verdict(key_id)  # noqa: E731",
                "verdict = lambda: None  # noqa: E731",
            ),
        ),
        (
            f"{REVOKE}::test_a_revoked_key_ends_its_streams",
            f"{REVOKE}::test_a_revocation_redis_never_heard_of_ends_the_streams_from_the_catalog",
        ),
    ),
    Mutant(
        "streams_outlive_their_user",
        "disabling a user, or a new password, ends every live stream of theirs within a keep-alive",
        (
            (
                "web/auth/revocation.py",
                'markers = [marker, redis_keys.revoked_key("user", user.id)]',
                "markers = [marker]",
            ),
        ),
        (
            f"{REVOKE}::test_disabling_a_user_ends_every_stream_of_theirs",
            f"{REVOKE}::test_a_new_password_ends_every_session_and_key_and_their_streams",
        ),
    ),
    Mutant(
        "keys_outlive_a_new_password",
        "a new password revokes every API key of the user's",
        (("transcoder/accounts/users.py", "self._revoke_keys(session, row.id)", "pass"),),
        (f"{REVOKE}::test_a_new_password_revokes_every_key_in_the_catalog",),
    ),
    Mutant(
        "keys_breed_keys",
        "a key creates keys only if it was made with that right",
        (("web/auth/account.py", "    check_key_right(want_right=right)\n", ""),),
        (f"{REVOKE}::test_a_key_creates_keys_only_if_made_with_that_right",),
    ),
    Mutant(
        "no_quotas",
        "an upload that would pass its user's quota is refused and nothing is stored",
        (
            (
                "transcoder/accounts/reservations.py",
                "quotas.check(self.quotas.usage(self.user), size, in_flight=int(others))",
                "pass",
            ),
        ),
        (f"{ACCOUNTS}::test_an_upload_past_a_quota_is_refused_and_nothing_is_stored",),
    ),
    Mutant(
        "quota_not_reserved",
        "an upload reserves its bytes before it is checked, so parallel uploads cannot together pass a quota",
        (
            (
                "transcoder/accounts/reservations.py",
                "others, before = self.redis.eval(_CLAIM, 1, key, self.id, str(max(size, 0)), str(self.ttl_s or TTL_S))",
                "others, before = 0, -1",
            ),
        ),
        ("tests/integration/test_quotas.py::test_ten_parallel_uploads_with_room_for_one_accept_exactly_one",),
    ),
    Mutant(
        "outputs_not_weighed",
        "the change that ends a video records what storage holds for it (source and outputs)",
        (("transcoder/work/weighing.py", "transitions.weigh(video, weight[0])", "pass"),),
        ("tests/integration/test_quotas.py::test_a_finished_video_counts_what_storage_holds_for_it",),
    ),
    Mutant(
        "failed_sign_ins_not_counted",
        "failed sign-ins make the next answers slower",
        (
            ("transcoder/accounts/throttle.py", "local n = redis.call('INCR', KEYS[1])\n", "local n = 0\n"),
            (
                "transcoder/accounts/throttle.py",
                "local m = redis.call('INCR', KEYS[3]) - 1\n",
                "local m = 0\n",
            ),
        ),
        (f"{ACCOUNTS}::test_failed_sign_ins_slow_down_but_never_lock_out",),
    ),
    Mutant(
        "sign_in_hashing_on_the_loop",
        "a flood of sign-ins leaves the process, its streams and /healthz alone (hashing off the loop)",
        (
            (
                "web/auth/sign_in_gate.py",
                "return self._hashing_pool().apply(self._lowered, (fn, *args))",
                "return fn(*args)",
            ),
        ),
        (f"{FLOOD}::test_a_flood_of_sign_ins_leaves_the_process_its_streams_and_healthz_alone",),
    ),
    Mutant(
        "sign_ins_in_flight_unbounded",
        "past TRANSCODER_SIGN_INS_IN_FLIGHT, a sign-in is refused at once (429, Retry-After)",
        (
            ("web/auth/sign_in_gate.py", "                raise GateFull\n", "                pass\n"),
            (
                "web/auth/sign_in_gate.py",
                "return bool(self.limit) and self.in_flight >= self.limit",
                "return False",
            ),
        ),
        (f"{FLOOD}::test_a_flood_of_sign_ins_leaves_the_process_its_streams_and_healthz_alone",),
    ),
    Mutant(
        "sign_in_place_held_while_the_body_comes",
        "a sign-in holds a place at the gate only for its password check, not while its body comes",
        (
            (
                "web/auth/sign_in_gate.py",
                "        if not self.gate.full():\n            return self.app(environ, start_response)\n",
                "        if not self.gate.full():\n            with self.gate.admitted():\n"
                "                return self.app(environ, start_response)\n",
            ),
        ),
        (f"{FLOOD}::test_sign_ins_whose_bodies_never_come_hold_no_place",),
    ),
    Mutant(
        "session_opened_after_a_new_password",
        "a sign-in checked against a password changed meanwhile opens no session",
        (
            (
                "transcoder/accounts/users.py",
                "if row is None or row.disabled or password_stamp(row.password_hash) != user.stamp:",
                "if row is None or row.disabled:",
            ),
        ),
        ("tests/integration/test_users.py::test_a_password_changed_after_its_check_opens_no_session",),
        quick=True,
    ),
    Mutant(
        "any_name_reaches_the_database",
        "a sign-in name no user can have (a NUL, say) is refused before the database, never 500",
        (
            (
                "transcoder/accounts/users.py",
                "        if NAME.match(name):  # no user",
                "        if True:  # no user",
            ),
        ),
        ("tests/integration/test_users.py::test_a_name_no_user_can_have_is_refused_before_the_database",),
        quick=True,
    ),
    Mutant(
        "redis_pool_refuses_past_its_connections",
        "a web process's Redis commands wait for a free connection past the pool's 100, never 503",
        (
            (
                "transcoder/services.py",
                "    pool = redis.BlockingConnectionPool.from_url(",
                "    pool = redis.ConnectionPool.from_url(",
            ),
            ("transcoder/services.py", "        timeout=POOL_WAIT_S,\n", ""),
        ),
        (f"{FLOOD}::test_event_streams_opened_all_at_once_are_all_served",),
    ),
    Mutant(
        "upload_outlives_its_revoked_key",
        "an upload whose key is revoked (or user disabled) while its body arrives keeps nothing",
        (("web/videos/api.py", "                revoked=revocation.verdict,\n", ""),),
        (
            "tests/integration/test_revocation.py::test_an_upload_on_its_way_when_its_key_is_revoked_keeps_nothing",
        ),
    ),
    Mutant(
        "sign_in_attempts_counted_late",
        "one address's guesses are counted as they start: parallel ones wait as sequential ones would",
        (
            (
                "transcoder/accounts/throttle.py",
                "local n = redis.call('INCR', KEYS[1])\n",
                "local n = tonumber(redis.call('GET', KEYS[1]) or '0')\n",
            ),
        ),
        (f"{FLOOD}::test_parallel_guesses_are_counted_as_they_start",),
    ),
    Mutant(
        "source_read_twice",
        "a source that states no length is read for its frames once, not once more to plan",
        (
            (
                "transcoder/media/probe.py",
                "return media, found if found is not None else scan(",
                "return media, scan(",
            ),
        ),
        ("tests/unit/media/test_probe.py::test_a_file_that_states_no_length_is_read_for_its_frames_once",),
        quick=True,
    ),
    Mutant(
        "metrics_open_to_all",
        "/metrics answers only Prometheus's token, or loopback under an allowed host name",
        (
            (
                "web/ops.py",
                '    if not may_scrape(\n        request.headers.get("Authorization", ""),\n'
                "        settings.metrics_token,\n        request.remote_addr,\n        request.host,\n"
                "        settings.host_names,\n    ):",
                "    if False:",
            ),
        ),
        (
            f"{WEAK}::test_metrics_answer_only_the_token_or_loopback",
            f"{DOOR}::test_only_allowed_host_names_are_served",
        ),
    ),
    Mutant(
        "gunicorn_trusts_loopback_proxies",
        "forwarded headers count only with TRANSCODER_TRUSTED_PROXIES (gunicorn trusts none itself)",
        (("web/server.py", 'forwarded_allow_ips = ""\n', ""),),
        (f"{WEAK}::test_a_forwarded_scheme_counts_only_from_a_trusted_proxy",),
    ),
    Mutant(
        "origin_scheme_ignored",
        "an Origin is its scheme, name and port: https:// is not a plain-HTTP server's",
        (("web/auth/csrf.py", "return parts.scheme.lower() == request.scheme and netloc", "return netloc"),),
        (f"{WEAK}::test_an_origin_is_its_scheme_name_and_port",),
    ),
    Mutant(
        "search_control_characters_allowed",
        "a search holding a control character is refused (a NUL matched every video)",
        (("web/videos/library.py", "    if CONTROL.search(query):", "    if False:"),),
        ("tests/integration/test_security.py::test_a_search_holding_a_control_character_is_refused",),
    ),
    Mutant(
        "answers_cacheable",
        "API answers and pages carry Cache-Control: no-store",
        (("web/middleware/headers.py", 'response.headers.setdefault("Cache-Control", "no-store")', "pass"),),
        ("tests/integration/test_security.py::test_security_headers_on_pages_and_api",),
    ),
    Mutant(
        "auth_off_one_stream_cap",
        "with sign-in off, the stream cap counts per client address, not for the one local admin",
        (
            (
                "web/auth/identity.py",
                'if user is None or not (key_id() or g.get("by_session")):',
                "if user is None:",
            ),
        ),
        (f"{WEAK}::test_with_sign_in_off_each_client_address_has_its_own_stream_cap",),
    ),
    Mutant(
        "next_judged_as_sent",
        "a `next` is judged as a browser reads it (tabs and newlines dropped, \\ read as /), else /",
        (
            (
                "web/auth/redirects.py",
                '    seen = browser_reads(target).rstrip("?")',
                '    seen = target.rstrip("?")',
            ),
            ("web/auth/redirects.py", "_is_path(browser_reads(unquote(seen)))", "_is_path(unquote(seen))"),
        ),
        ("tests/unit/web/auth/test_redirects.py",),
        quick=True,
    ),
    Mutant(
        "json_bodies_unchecked",
        "a JSON body is read by web.json_body (depth, lone surrogates, huge numbers: 400, never 500)",
        (("web/auth/account.py", "    body = json_body()\n", "    body = request.get_json(silent=True)\n"),),
        (f"{FUZZ}::test_the_inputs_that_answered_500",),
    ),
    Mutant(
        "missing_file_is_storage_error",
        "a media name that fits its route but names no stored file is 404, its storage key unsaid",
        (
            (
                "web/videos/files.py",
                "    except (StoredFileMissing, FileNotFoundError):",
                "    except FileNotFoundError:",
            ),
        ),
        (f"{FUZZ}::test_the_inputs_that_answered_500",),
    ),
    Mutant(
        "lease_not_renewed",
        "a part that runs longer than its lease keeps it (renewed by its heartbeat), so it is never taken for dead",
        (("transcoder/work/runner.py", "            heartbeat=lease.renew,\n", ""),),
        ("tests/integration/test_leases.py",),
    ),
    Mutant(
        "join_frame_count_unchecked",
        "a joined rendition that lost a part's pictures fails its video, never made ready (the check is called)",
        (
            (
                "transcoder/work/join.py",
                "                check_frame_count(mp4_index.video_frames(mp4), expected_frames(video, name))\n",
                "",
            ),
        ),
        ("tests/unit/work/test_join.py", "tests/integration/test_mp4_index.py"),
    ),
    Mutant(
        "hub_not_resynced_after_reconnect",
        "a live hub whose subscription dropped passes on, once back, what was published meanwhile",
        (
            (
                "transcoder/live/hub.py",
                "                        self._resync()  # whatever was published while not subscribed\n",
                "",
            ),
        ),
        (
            "tests/unit/live/test_hub.py",
            "tests/integration/test_live.py::test_a_change_published_while_the_hubs_subscription_is_down_reaches_its_followers",
        ),
    ),
    Mutant(
        "s3_delete_first_page_only",
        "deleting a video from S3 deletes every file of it, past the first page of a listing (1,000 keys)",
        (
            (
                "transcoder/storage/s3.py",
                '            for page in self.client.get_paginator("list_objects_v2").paginate(\n'
                '                Bucket=self.bucket, Prefix=name + "/"\n            ):\n'
                '                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]',
                '            for page in [self.client.list_objects_v2(Bucket=self.bucket, Prefix=name + "/")]:\n'
                '                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]',
            ),
        ),
        (
            "tests/integration/test_storage.py::test_a_video_with_more_files_than_one_listing_page_is_deleted_whole",
        ),
    ),
    Mutant(
        "websockets_not_counted",
        "an open WebSocket holds a place under the per-client stream cap while it lasts",
        (
            (
                "web/live/ws.py",
                '    with streams.cap().admit(client_id(), "ws"):\n        follower, _ =',
                "    if True:\n        follower, _ =",
            ),
        ),
        ("tests/integration/test_live.py::test_per_client_cap_idle_timeout_and_held_connections",),
    ),
    Mutant(
        "referer_not_judged",
        "an unsafe request without an Origin is judged by its Referer (older browsers send no Origin)",
        (
            (
                "web/auth/csrf.py",
                'origin = request.headers.get("Origin") or (request.headers.get("Referer") if unsafe else None)',
                'origin = request.headers.get("Origin")',
            ),
        ),
        (
            f"{ACCOUNTS}::test_a_sign_in_posted_from_another_site_is_refused_by_its_referer",
            f"{WEAK}::test_an_origin_is_its_scheme_name_and_port",
        ),
    ),
    Mutant(
        "media_served_to_any_host",
        "the media routes (MP4s, HLS, previews) answer only allowed host names, as every other route",
        (
            (
                "web/middleware/hosts.py",
                "        if request.endpoint in ANY_HOST:\n            return\n",
                '        if request.endpoint in ANY_HOST or request.blueprint == "files":\n            return\n',
            ),
        ),
        (f"{DOOR}::test_only_allowed_host_names_are_served",),
    ),
    Mutant(
        "sign_ins_not_counted_per_account",
        "each sign-in is counted against its account as well as its address, so guesses spread over addresses wait",
        (
            (
                "transcoder/accounts/throttle.py",
                "local m = redis.call('INCR', KEYS[3]) - 1\n",
                "local m = 0\n",
            ),
        ),
        (
            f"{FLOOD}::test_guesses_at_one_account_from_many_addresses_are_counted_against_it",
            f"{FLOOD}::test_the_throttle_spaces_one_address_and_slows_but_never_refuses_an_account",
        ),
    ),
    Mutant(
        "sign_ins_counted_by_address_only",
        "the sign-in route hands the throttle the account a sign-in names, not only its address",
        (
            (
                "web/auth/sign_in.py",
                "turn = svc.throttle.begin(name, address)",
                "turn = svc.throttle.begin(address, address)",
            ),
        ),
        (f"{FLOOD}::test_guesses_at_one_account_from_many_addresses_are_counted_against_it",),
    ),
    Mutant(
        "tus_upload_restarts_from_zero",
        "`transcoder submit` goes on from the server's offset (HEAD) after a dropped connection, not from 0",
        (
            (
                "transcoder/tus_client.py",
                "                    offset = None\n",
                "                    offset = 0\n",
            ),
        ),
        (f"{CLI_RESUME}::test_connection_cut_mid_upload_resumes_in_the_same_run",),
    ),
    Mutant(
        "tus_upload_urls_not_kept",
        "`transcoder submit` keeps an unfinished upload's URL, so the next run of the same file goes on",
        (
            (
                "transcoder/tus_client.py",
                "                self.store.put(entry, url)\n",
                "                pass\n",
            ),
        ),
        (f"{CLI_RESUME}::test_second_run_resumes_from_the_stored_url",),
    ),
    Mutant(
        "tus_upload_in_one_patch",
        "`transcoder submit` sends a resumable upload in chunks (a drop loses at most one)",
        (
            (
                "transcoder/tus_client.py",
                "url, fh, offset, min(self.chunk_size, size - offset), size",
                "url, fh, offset, size - offset, size",
            ),
        ),
        (f"{CLI_RESUME}::test_submit_over_tus_ends_ready",),
    ),
    Mutant(
        "later_parts_not_lowered",
        "every part but those playback waits for runs its ffmpeg at a lower priority (nice 10)",
        (
            (
                "transcoder/work/encode.py",
                "        cpu = process.run(argv, reporter, watch, niceness=_niceness(entry))\n        span",
                "        cpu = process.run(argv, reporter, watch)\n        span",
            ),
            (
                "transcoder/work/encode.py",
                "        cpu = process.run(argv, reporter, watch, niceness=_niceness(entry))\n        return",
                "        cpu = process.run(argv, reporter, watch)\n        return",
            ),
        ),
        (
            "tests/unit/work/test_encode.py",
            "tests/integration/test_workers.py::test_one_long_video_is_spread_over_both_workers",
        ),
    ),
    Mutant(
        "new_redis_left_to_the_sweep",
        "a web process marks a new Redis loaded before it takes an upload",
        (("web/services.py", "    mark_new_redis(svc)\n", "    pass\n"),),
        ("tests/integration/test_recovery.py::test_a_web_process_marks_a_new_redis_before_its_first_upload",),
    ),
    Mutant(
        "upload_lock_never_refuses",
        "one PATCH at a time per resumable upload: a second one meanwhile is refused (423), never interleaved",
        (
            (
                "transcoder/uploads/locks.py",
                "taken = bool(self.redis.set(self.key, self.token, nx=True, px=int(self.ttl_s * 1000)))",
                "taken = bool(self.redis.set(self.key, self.token, px=int(self.ttl_s * 1000)))",
            ),
        ),
        (f"{TUS}::test_two_patches_at_once_one_is_refused_and_the_file_is_whole",),
    ),
    Mutant(
        "upload_offset_recorded_blindly",
        "a resumable upload's offset is recorded only if it still stands where the PATCH began",
        (
            (
                "transcoder/uploads/resumable.py",
                ".where(ResumableUploadRow.id == upload.id, ResumableUploadRow.offset == upload.offset)",
                ".where(ResumableUploadRow.id == upload.id)",
            ),
        ),
        (f"{TUS}::test_a_lapsed_lock_still_cannot_record_two_bodies",),
    ),
    Mutant(
        "upload_length_unchecked",
        "nothing past a resumable upload's Upload-Length is kept, even from a body that states no length",
        (("transcoder/uploads/streaming.py", "if self.count + len(chunk) > self.room:", "if False:"),),
        (f"{TUS}::test_a_client_that_lies_about_its_length_keeps_nothing_past_it",),
    ),
    Mutant(
        "upload_quota_not_held_at_creation",
        "a resumable upload holds its Upload-Length against its owner's quotas from its creation",
        (
            (
                "transcoder/uploads/resumable.py",
                "            held.resize(length)\n",
                "            held.resize(0)\n",
            ),
        ),
        (f"{TUS}::test_ten_parallel_creations_with_room_for_one_accept_one",),
    ),
    Mutant(
        "upload_checkpoints_not_recorded",
        "a PATCH's bytes are recorded at checkpoints as they drain: a web process killed mid-body keeps them",
        (
            ("transcoder/uploads/staging.py", "checkpoint(out.tell(), state)", "pass"),
            ("transcoder/uploads/s3_staging.py", "checkpoint(offset_of(done), done)", "pass"),
        ),
        (
            f"{TUS}::test_a_web_process_killed_mid_patch_keeps_its_checkpoints",
            "tests/integration/test_s3_resumable.py::test_a_web_process_killed_mid_patch_keeps_its_parts",
        ),
    ),
    Mutant(
        "upload_lock_not_renewed",
        "a resumable upload's lock (15 s TTL) is renewed by a heartbeat while its PATCH lives, however slow",
        (("transcoder/uploads/locks.py", "self.lock.refresh(force=True)", "pass"),),
        (f"{TUS}::test_a_live_patch_keeps_its_lock_past_the_ttl",),
    ),
    Mutant(
        "s3_tail_not_kept",
        "an S3-staged upload keeps the bytes past its last whole part as a tail any web machine continues from",
        (
            (
                "transcoder/uploads/s3_staging.py",
                "if filled and (end, filled) != (tail_from, tail):",
                "if False:",
            ),
        ),
        (f"{S3_STAGING}::test_patches_of_any_size_from_two_machines_build_the_exact_bytes",),
        quick=True,
    ),
    Mutant(
        "s3_refused_patch_kept",
        "a PATCH refused after its bytes went to S3 keeps nothing: the staging goes back to the recorded tail",
        (
            (
                "transcoder/uploads/s3_staging.py",
                "if self._tail_size(upload_id, offset) == left:",
                "if False:",
            ),
        ),
        (f"{S3_STAGING}::test_a_patch_refused_after_its_bytes_were_sent_keeps_nothing",),
        quick=True,
    ),
    Mutant(
        "s3_staging_left_behind",
        "a terminated or expired S3-staged upload leaves no object and no multipart upload",
        (
            (
                "transcoder/uploads/s3_staging.py",
                'harmless twice, and after ``finish`` or ``keep``."""\n',
                'harmless twice, and after ``finish`` or ``keep``."""\n        return\n',
            ),
        ),
        (f"{S3_STAGING}::test_discard_leaves_no_object_and_no_multipart_upload",),
        quick=True,
    ),
    Mutant(
        "network_input_for_any_url",
        "ffprobe reads over http(s) only a URL we presigned; any other input stays a local file",
        (
            (
                "transcoder/media/policy.py",
                "    if isinstance(source, SignedUrl):\n",
                "    if isinstance(source, str):\n",
            ),
        ),
        ("tests/unit/media/test_policy.py::test_only_a_url_we_presigned_may_be_read_over_the_network",),
        quick=True,
    ),
    Mutant(
        "shared_files_deleted_with_any_reference",
        "a video's delete removes the outputs it shares only with their last reference",
        (
            (
                "transcoder/records/sources.py",
                "            if left:\n",
                "            if False:\n",
            ),
        ),
        (f"{DEDUPE}::test_the_same_file_twice_is_ready_at_once_and_its_files_go_with_the_last_reference",),
    ),
    Mutant(
        "source_row_not_locked",
        "the source row is locked while an upload attaches to its outputs or a delete drops a reference",
        (
            (
                "transcoder/records/sources.py",
                "    return session.get(SourceRow, key, with_for_update=True)",
                "    return session.get(SourceRow, key)",
            ),
        ),
        ("tests/integration/test_dedupe_race.py",),
    ),
    Mutant(
        "settings_not_in_the_content_key",
        "the content key holds the version of the encoding settings, so new settings encode afresh",
        (
            (
                "transcoder/work/reuse.py",
                'f"{sha256}\\n{settings_version(settings)}\\n{scope}"',
                'f"{sha256}\\n{scope}"',
            ),
        ),
        ("tests/unit/work/test_reuse.py", f"{DEDUPE}::test_a_change_of_the_encoding_settings_encodes_afresh"),
    ),
    Mutant(
        "uploads_under_way_uncapped",
        "a user may hold at most TRANSCODER_UPLOADS_UNDER_WAY unfinished resumable uploads, counted under a lock",
        (
            (
                "transcoder/uploads/resumable.py",
                "        with under_way.place(self.services.redis, self.services.catalog, owner.id, cap):\n",
                "        if cap or True:\n",
            ),
        ),
        (f"{TUS}::test_a_user_may_hold_only_so_many_unfinished_uploads_even_at_once",),
    ),
    Mutant(
        "reused_size_not_checked",
        "a reused video's full size (source and outputs) is checked against its owner's quotas before it is recorded",
        (
            (
                "transcoder/work/reuse.py",
                '                charge(int(seen.document.get("stored_bytes") or 0))\n',
                "                pass\n",
            ),
        ),
        (f"{DEDUPE}::test_a_reused_video_past_the_storage_quota_is_refused_and_leaves_nothing",),
    ),
    Mutant(
        "page_upload_not_retried",
        "the upload page retries a dropped connection and goes on from the server's offset by itself",
        (("web/static/upload.js", "      retryDelays: RETRY_DELAYS,\n", "      retryDelays: null,\n"),),
        (f"{PAGE_TUS}::test_a_dropped_connection_resumes_by_itself_and_the_video_ends_ready",),
    ),
    Mutant(
        "page_resume_not_offered",
        "a file picked again after a reload is offered to resume from the server's offset",
        (("web/static/upload.js", "      if (previous.length) offer(", "      if (false) offer("),),
        (f"{PAGE_TUS}::test_a_reloaded_page_offers_to_resume_the_same_file_and_does",),
    ),
    Mutant(
        "page_fingerprint_not_per_user",
        "the upload page's fingerprint names the user: another user on the browser is never offered an upload",
        (("web/static/upload.js", '["transcoder", user, file.name', '["transcoder", file.name'),),
        (f"{PAGE_TUS}::test_another_user_on_the_same_browser_is_not_offered_the_upload",),
    ),
    Mutant(
        "page_video_id_not_looked_up",
        "an upload whose last answer was lost finds its video in the upload's record (GET)",
        (
            (
                "web/static/upload.js",
                ': fetch(upload.url, { headers: { "Tus-Resumable": "1.0.0" } }).then((r) => r.json()).then((b) => b.video_id);',
                ": Promise.resolve(null);",
            ),
        ),
        (f"{PAGE_TUS}::test_a_lost_answer_to_the_last_patch_still_finds_the_video",),
    ),
    Mutant(
        "page_gone_uploads_listed",
        "the upload page forgets unfinished uploads the server no longer has (expired, deleted)",
        (("web/static/upload.js", "  pruneUnfinished();\n})();", "})();"),),
        (f"{PAGE_TUS}::test_an_unfinished_upload_the_server_no_longer_has_is_forgotten",),
    ),
    Mutant(
        "ready_origin_left_to_its_close",
        "a repeat of a video that is ready but not yet closed settles it and is ready at once",
        (
            (
                "transcoder/work/reuse.py",
                "                settle(services, seen.home)  # type: ignore[union-attr]\n",
                "                pass\n",
            ),
        ),
        (f"{DEDUPE}::test_a_repeat_after_its_origin_is_ready_but_before_its_close_is_ready_at_once",),
    ),
)
