"""What is known of each video, and where: Redis while it runs, the database for good.

The words of a video's state (``states``), its changes as pure functions
(``transitions``), what the API shows summed up from its parts (``summary``), the
documents applied atomically in Redis and written to the catalog (``videos``), the
catalog and its database (``catalog``, ``database``, ``migrations``), Redis as a cache
over it (``cache``), every Redis key and queue name (``redis_keys``), Redis replies as
text (``replies``) and a part's lease (``leases``).

May import: ``transcoder.errors``, ``transcoder.media`` and itself.
"""
