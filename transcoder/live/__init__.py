"""Live progress: one Redis subscription per process, fanned out to every open stream.

The ``hub`` holds the subscription and every ``follower`` (one per event stream or
WebSocket), and offers each the newest snapshot of the videos it follows.

May import: ``transcoder.records`` and ``transcoder.errors``.
"""
