#!/usr/bin/env bash
# Starts one Celery worker and the web app (gunicorn), prints the URL, and
# stops both on Ctrl-C. `make run` calls this after setting up.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
host="${TRANSCODER_HOST:-127.0.0.1}"
port="${TRANSCODER_PORT:-8000}"
threads="${TRANSCODER_WEB_THREADS:-64}"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/celery" -A tasks worker --loglevel INFO --hostname "worker1@%h" &
pids+=($!)
# gthread: each open event stream holds a thread, not a whole process.
"$bin/gunicorn" --worker-class gthread --workers 1 --threads "$threads" \
  --bind "$host:$port" --access-logfile - 'web:create_app()' &
pids+=($!)

for _ in $(seq 100); do
  "$bin/python" -c "import urllib.request as u; u.urlopen('http://$host:$port/healthz', timeout=1)" \
    2>/dev/null && break
  sleep 0.1
done
echo
echo "Transcoder is running: http://$host:$port/   (Ctrl-C stops it)"
echo
wait -n "${pids[@]}"
