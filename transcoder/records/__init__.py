"""What is known of each video, and where: Redis while it runs, the database for good.

A video's document as the type checker reads it (``document``), the words of its
state (``states``), its changes as pure functions
(``transitions``), what the API shows summed up from its parts (``summary``), the
documents applied atomically in Redis and written to the catalog (``videos``), the
catalog and its database (``catalog``, ``database``, ``migrations``), Redis as a cache
over it (``cache``), every Redis key and queue name (``redis_keys``), Redis replies as
text (``replies``), a part's lease (``leases``), and the catalog's tables of users,
sessions, keys and uploads (``account_rows``) and of resumable uploads (``upload_rows``).

May import: ``transcoder.errors``, ``transcoder.media`` and itself.
"""
