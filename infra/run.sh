#!/usr/bin/env bash
# Starts one Celery worker and the web app (gunicorn), prints the URL once the web app
# answers its health check, and stops both on Ctrl-C. `make run` calls this after
# setting up. The processes' own logs go to var/log/, so this terminal stays short.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
host="${TRANSCODER_HOST:-127.0.0.1}"
port="${TRANSCODER_PORT:-8000}"
logs=var/log

infra/check-port.sh
infra/ensure-redis.sh
# A broker the settings name (the default is the Redis just checked): RabbitMQ or SQS must
# answer now, otherwise one line naming TRANSCODER_BROKER_URL, and no start; then what its
# transport needs, installed only for those who choose it (SQS: kombu receives through
# pycurl). transcoder/brokers/ knows both.
if [ -n "${TRANSCODER_BROKER_URL:-}" ]; then
  extra="$("$bin/python" -m transcoder.brokers)"
  if [ -n "$extra" ]; then
    echo "Installing the '$extra' extra for the broker (log: var/log/setup.log)"
    "$bin/pip" install -e ".[$extra]" >>var/log/setup.log 2>&1 || { tail -n 20 var/log/setup.log; exit 1; }
  fi
fi
"$bin/python" -m transcoder.ops.durability || true   # a warning at most, never a reason to stop

pids=()
stopping=""
stop() {
  trap - INT TERM EXIT
  echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
# Ctrl-C reaches the worker and the web app too, and on a busy machine one of them may
# be seen to exit before this script's own trap runs: so a stop that was asked for is
# decided by this flag, never by which process happened to end first.
trap 'stopping=1' INT TERM
trap stop EXIT
stopped_on_request() { [ -n "$stopping" ] && { stop; exit 0; }; return 0; }

mkdir -p "$logs"
# The way in: with no user yet, an admin with a random password, printed once below.
way_in=""
if [ "${TRANSCODER_AUTH:-on}" != off ]; then
  way_in="$("$bin/transcoder" users first-admin)"
  [ -n "$way_in" ] || way_in="Sign in with your account (an admin makes more: $bin/transcoder users add NAME)"
fi
echo "Starting a worker (log: $logs/worker.log) and the web app (log: $logs/web.log)"
"$bin/celery" -A tasks worker --loglevel INFO --hostname "worker1@%h" >>"$logs/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
# gevent: each open event stream or WebSocket holds a greenlet (settings in web/server.py).
"$bin/gunicorn" -c python:web.server --bind "$host:$port" 'web:create_app()' >>"$logs/web.log" 2>&1 &
web=$!
pids+=("$web")

# "running" only once our own web app answers: the port was free, and gunicorn is alive.
up=""
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
  stopped_on_request
  for role in worker web; do
    [ "$role" = web ] && pid=$web || pid=$worker
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "The $role process stopped while starting; the end of $logs/$role.log:" >&2
      tail -n 15 "$logs/$role.log" >&2
      exit 1
    fi
  done
  if "$bin/python" -c "import urllib.request as u; u.urlopen('http://$host:$port/healthz', timeout=1)" \
    2>/dev/null; then
    up=1
    break
  fi
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "The web app did not answer http://$host:$port/healthz within 30 s; see $logs/web.log" >&2
  exit 1
fi
echo "Transcoder is running: http://$host:$port/   (Ctrl-C stops it; logs in $logs/)"
[ -z "$way_in" ] || echo "$way_in"
status=0
wait -n "${pids[@]}" || status=$?
stopped_on_request
sleep 1  # a Ctrl-C whose trap has not run yet
stopped_on_request
echo "A process stopped (exit status $status); see $logs/worker.log and $logs/web.log" >&2
exit 1
