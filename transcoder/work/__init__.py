"""Doing a video's work: what the web app and the tasks ask of a video.

Accept an upload, cancel, delete, retry, close (``actions``); run one part with its
lease, watch and outcome (``runner``); the parts' work: encode pictures and sound
(``encode``), join them (``join``), the playlists written from their results
(``playlists``); finding work whose worker died (``lost_work``), coming back after Redis
lost everything (``recovery``), and the pause before a part runs again (``retry``).

May import: every other subpackage of the core, ``settings``, ``services`` and ``errors``.
Nothing in the core imports it, but the CLI.
"""
