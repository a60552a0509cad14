"""The secret that signs browser sessions: ``TRANSCODER_SECRET_KEY``, or else one made once
and kept in ``TRANSCODER_SECRET_KEY_FILE`` (``var/secret-key``), so a restart signs nobody
out and every web process on this machine signs alike."""

from __future__ import annotations

import os
import secrets

from transcoder.settings import Settings


def signing_secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.secret_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(made, path)  # the first process to get here wins; the others read its secret
        except FileExistsError:
            pass
        finally:
            made.unlink()
    return path.read_text().strip().encode()
