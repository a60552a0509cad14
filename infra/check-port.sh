#!/usr/bin/env bash
# Exits non-zero, with one plain line, when the web app's address is already taken, so
# `make run` stops before it starts anything instead of pointing at another program.
set -euo pipefail
host="${TRANSCODER_HOST:-127.0.0.1}"
port="${TRANSCODER_PORT:-8000}"
if ! python3 - "$host" "$port" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
with socket.socket(family) as s:
    # gunicorn binds with SO_REUSEADDR too: a port in TIME_WAIT is free for it as well.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError:
        sys.exit(1)
PY
then
  echo "Port $port on $host is already in use by another program: stop it, or choose another port with TRANSCODER_PORT (e.g. TRANSCODER_PORT=8001 make run)." >&2
  exit 1
fi
