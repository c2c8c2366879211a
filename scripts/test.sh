#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, then runs it all.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v git >/dev/null || missing+=(git)
command -v openssl >/dev/null || missing+=(openssl)
command -v sha256sum >/dev/null || missing+=(coreutils)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
# Real servers the tests start on loopback ports of their own: Prometheus (with promtool, for
# backfilled history) for the slo kind and the promotion analysis, PostgreSQL for the migrations
# and tenant_isolation kinds.
{ command -v prometheus && command -v promtool; } >/dev/null || missing+=(prometheus)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
# nginx, for the promotion tests' weighted canary upstream; nats-server, for the JetStream bus.
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
# Chromium, which loads a pack's index.html headless.
command -v chromium >/dev/null || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if [ ! -x target/pyenv/bin/python ] || ! target/pyenv/bin/python -c 'import securesystemslib, in_toto_attestation, cyclonedx.validation.json, jsonschema, packageurl, spdx_tools.spdx.parser.parse_anything' 2>/dev/null; then
  echo "creating target/pyenv with the cross-check packages"
  mkdir -p target
  python3 -m venv target/pyenv || { as_root apt-get install -y -qq python3-venv && python3 -m venv target/pyenv; }
  target/pyenv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
fi
export CONDUCTOR_TEST_PYTHON="$PWD/target/pyenv/bin/python"

cargo test --workspace --locked "$@"
