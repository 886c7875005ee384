#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing: nginx (the uwsgi_pass tests), and gcc with
# Python's headers (to compile uWSGI, which the interop tests run beside uwkernel).
# Runs only as root with apt-get available; otherwise says why and leaves the tests to skip.
set -u
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
python3 -c 'import os, sysconfig; os.stat(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
  >/dev/null 2>&1 || missing+=(python3-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: not root or no apt-get: ${missing[*]} not installed; those tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
timeout 600 apt-get update -qq >/dev/null 2>&1 || echo "install-system-deps: apt-get update failed" >&2
timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || echo "install-system-deps: could not install ${missing[*]}; those tests will skip" >&2
# The package starts a default nginx on port 80; the tests run their own.
if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
  command -v service >/dev/null 2>&1 && service nginx stop >/dev/null 2>&1
  pkill -x nginx >/dev/null 2>&1
fi
exit 0
