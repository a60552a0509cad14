"""The transcoding core: what a video is, what is known of it, where its files live, the
work that transcodes it, its live progress, and what operators read.

Subpackages, each named for what it does (their ``__init__`` says what each holds and
what it may import; ``tests/unit/test_layering.py`` enforces it): ``media``,
``records``, ``storage``, ``work``, ``live``, ``ops``. Beside them: ``settings`` (the
one settings object), ``services`` (the clients of one process), ``errors`` (every
exception we raise), and the command line (``cli``, over ``client``).

It knows nothing of Flask or Celery; ``web`` and ``tasks`` are built on it.
"""

__version__ = "0.1.0"
