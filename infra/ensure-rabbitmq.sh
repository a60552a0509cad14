#!/usr/bin/env bash
# For `make test`: makes sure a RabbitMQ answers on 127.0.0.1:5672 for the broker's tests
# (each makes and drops a vhost of its own). Starts Debian's rabbitmq-server when it is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

answers() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
answers && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Starting RabbitMQ for the tests (log: var/log/setup.log)"
mkdir -p var/log
{ $sudo service rabbitmq-server start || $sudo rabbitmq-server -detached; } >>var/log/setup.log 2>&1
for _ in $(seq 150); do
  answers && $sudo rabbitmqctl -q await_startup >>var/log/setup.log 2>&1 && exit 0
  sleep 0.2
done
echo "RabbitMQ did not start; see var/log/setup.log" >&2
exit 1
