"""What a video is and what ffmpeg is told to do with it: pure, testable without a worker.

Probing and the frame list (``probe``, ``frames``), what we accept (``policy``), the
ladder of output sizes (``ladder``), colour (``color``), the previews' plan
(``previews``), the planner that cuts a video's work into parts (``planner``), every
ffmpeg command built as an argument list (``commands``), the one place that runs ffmpeg
(``process``), its progress (``progress``) and the HLS playlists' text (``hls``).

May import: ``transcoder.errors`` and itself. Knows nothing of Redis, the database or storage.
"""
