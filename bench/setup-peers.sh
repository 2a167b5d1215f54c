#!/bin/sh
# Installs the peer message systems the benchmark measures beside Brook (Debian packages):
#   redis-server    Redis Streams            (bench/peers/redis.ts)
#   nats-server     NATS JetStream           (bench/peers/nats.ts)
#   rabbitmq-server RabbitMQ stream queues   (bench/peers/rabbitmq.ts)
# The benchmark starts each one itself on 127.0.0.1 with a temporary data dir; nothing here
# starts or enables a service. Needs root (or sudo). Check afterwards with:
#   npx tsx bench/peers/try.ts --records 1000
set -eu

packages="redis-server nats-server rabbitmq-server"

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "setup-peers: run as root (or install sudo) to install: $packages" >&2
  exit 1
fi

echo "setup-peers: apt-get update"
$sudo apt-get update
echo "setup-peers: apt-get install -y $packages"
# Debian may start the packages' own services; the benchmark never uses them (it runs private
# servers on free ports), so they can be stopped or left alone.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $packages

echo "setup-peers: installed:"
redis-server --version
nats-server --version
dpkg-query -W -f='rabbitmq-server ${Version}\n' rabbitmq-server
