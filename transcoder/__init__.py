"""The transcoding core: probing, the ladder, ffmpeg, storage, job state and events.

It knows nothing of Flask or Celery; ``web`` and ``tasks`` are built on it.
"""

__version__ = "0.1.0"
