#!/usr/bin/env bash
# Calls on a machine that reaches only npm and Debian's apt (no GitHub, no PyPI): mediasoup's own
# install cannot download its prebuilt worker there, nor the tools to build one. This script
# installs Debian's build and runtime libraries, builds the worker from the npm package's own C++
# sources against them (build.sh; cached under /var/cache/mediasoup-worker by version), checks it
# and puts it where mediasoup looks for it. Debian 12 (bookworm), as root, from the project root:
#
#   MEDIASOUP_WORKER_BIN=skip npm install     # any value makes mediasoup's postinstall skip its download
#   npm run media:worker                      # this script; about 6 minutes the first time
#
# Where the internet is reachable none of this is needed: plain `npm install` downloads the
# official prebuilt worker, which is what production should run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PKG=node_modules/mediasoup
if [ ! -f "$PKG/package.json" ]; then
  echo "no $PKG: npm left the optional mediasoup package out. Run: MEDIASOUP_WORKER_BIN=skip npm install" >&2
  exit 1
fi
[ "$(id -u)" = 0 ] || { echo "run as root (it installs Debian packages with apt-get)" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "this build needs Debian 12 (apt-get); elsewhere use the prebuilt worker (npm install with internet)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

libs="g++ pkg-config ninja-build libssl-dev libuv1-dev libsrtp2-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler libusrsctp-dev"
need_meson() { ! command -v meson >/dev/null || dpkg --compare-versions "$(meson --version)" lt 1.1; }
if ! dpkg -s $libs >/dev/null 2>&1 || need_meson; then
  # meson >= 1.1 is in bookworm-backports; use the machine's own Debian mirror for it.
  if need_meson && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(grep -hE '^\s*URIs:\s*\S+/debian/?\s*$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'NR == 1 {print $2}' || true)
    [ -n "$uri" ] || uri=$(grep -hE '^deb\s+\S+/debian/?\s' /etc/apt/sources.list 2>/dev/null | awk 'NR == 1 {print $2}' || true)
    [ -n "$uri" ] || { echo "cannot find the Debian mirror in apt's sources" >&2; exit 1; }
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
      > /etc/apt/sources.list.d/bookworm-backports.sources
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $libs >/dev/null
  need_meson && apt-get install -y -qq --no-install-recommends -t bookworm-backports meson >/dev/null
fi

version=$(node -p "require('./$PKG/package.json').version")
key="$version-$(sha256sum "$HERE/build.sh" | cut -c1-12)"
cached=/var/cache/mediasoup-worker/$key/mediasoup-worker
if [ ! -x "$cached" ]; then
  echo "building mediasoup-worker $version (about 6 minutes on 2 cores; cached afterwards)"
  SECONDS=0
  log=$(mktemp /tmp/mediasoup-worker-build.XXXXXX.log)
  "$HERE/build.sh" "$PKG" "$cached.tmp" >"$log" 2>&1 || { tail -30 "$log"; echo "full log: $log" >&2; exit 1; }
  mv "$cached.tmp" "$cached"
  echo "built in ${SECONDS}s"
fi
# Sanity: started without its environment, the worker exits with code 41.
set +e; env -i "$cached" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 41 ] || { echo "mediasoup-worker sanity check failed (exit $rc)" >&2; exit 1; }
install -D -m 0755 "$cached" "$PKG/worker/out/Release/mediasoup-worker"
echo "mediasoup $version worker ready: calls are on"
