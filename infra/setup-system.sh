#!/usr/bin/env bash
# Installs the Debian packages the project runs on, where they are missing:
# ffmpeg (ffmpeg, ffprobe), redis-server, and Python's venv module.
# Extra package names can be passed as arguments (e.g. chromium for browser tests).
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || need+=(redis-server redis-tools)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
for extra in "$@"; do
  program="$extra"
  [ "$extra" = iproute2 ] && program=ip   # the multi-host test's network namespaces
  [ "$extra" = postgresql ] && program=pg_ctlcluster   # the catalog's tests
  [ "$extra" = rabbitmq-server ] && program=rabbitmqctl   # the broker's tests
  command -v "$program" >/dev/null 2>&1 || need+=("$extra")
done
[ ${#need[@]} -eq 0 ] && exit 0

cd "$(dirname "$0")/.."
mkdir -p var/log
log=var/log/setup.log
echo "Installing Debian packages: ${need[*]} (log: $log)"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"; } >>"$log" 2>&1; then
  echo "Installing ${need[*]} failed; the end of $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
