"""Resumable uploads (tus 1.0): the protocol's headers (``tus``), where an unfinished
upload's bytes gather (``staging``; ``s3_staging`` for S3), one upload's lock
(``locks``), a PATCH's body on its way (``streaming``), and what the protocol does:
create, append, finish, terminate, expire (``resumable``).

May import ``accounts``, ``errors``, ``ops``, ``records``, ``services``, ``settings``,
``storage`` and ``work`` (its last byte becomes a video through
``work.actions.accept_staged``); nothing of the web app: ``web.uploads`` serves it.
"""
