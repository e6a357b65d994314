#!/bin/sh
# Installs the Debian packages stanced needs to build, run and test. Both
# `make run` and `make test` call it; it does nothing when all are present.
# Not root: prints the exact apt-get line to run instead.
set -eu
PKGS="build-essential pkg-config libsvm-dev libzmq3-dev libcjson-dev libyaml-dev libutf8proc-dev python3 python3-zmq"
[ -n "${STANCE_EXTRA_PKGS:-}" ] && PKGS="$PKGS $STANCE_EXTRA_PKGS"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
