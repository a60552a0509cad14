"""What operators run and read: figures for /metrics (``metrics``), the autoscaler that keeps
local workers following the queue (``autoscaler``), and the warning about a Redis that
keeps nothing on disk (``durability``).

May import: ``transcoder.records``, ``transcoder.settings`` and ``transcoder.errors``.
"""
