#!/usr/bin/env bash
# Makes sure a Redis answers at TRANSCODER_REDIS_URL. When none does and the URL
# points at this machine, starts redis-server with infra/redis.conf (AOF on),
# keeping its data in var/redis/.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${TRANSCODER_REDIS_URL:-redis://127.0.0.1:6379/0}"
if [ "$(redis-cli -u "$url" ping 2>/dev/null)" = "PONG" ]; then
  echo "Using the Redis that answers at $url"
  exit 0
fi

hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"
[ "$port" = "$hostport" ] && port=6379
case "$host" in
  127.*|localhost|"") ;;
  *) echo "No Redis answers at $url, and it is not on this machine: start it, or set TRANSCODER_REDIS_URL." >&2; exit 1 ;;
esac

mkdir -p var/redis
echo "Starting redis-server on $host:$port (data in var/redis)"
redis-server infra/redis.conf --port "$port" --bind "${host:-127.0.0.1}" --dir "$PWD/var/redis" \
  --daemonize yes --pidfile "$PWD/var/redis/redis.pid" --logfile "$PWD/var/redis/redis.log"
for _ in $(seq 50); do
  [ "$(redis-cli -u "$url" ping 2>/dev/null)" = "PONG" ] && exit 0
  sleep 0.1
done
echo "redis-server did not start; see var/redis/redis.log" >&2
exit 1
