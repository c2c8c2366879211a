#!/usr/bin/env bash
# Promotion on a real target: the example service in two versions behind nginx,
# Prometheus scraping both, load on loopback. A release whose phases hold one
# check each is cleared, approved and packed; then a good version goes
# 10 -> 50 -> 100 to GA, and a version failing its order lookups is rolled back
# at 10% with an incident record. Needs nginx and prometheus (apt-get install
# nginx prometheus), python3 and git.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
for tool in python3 git prometheus; do
  command -v "$tool" >/dev/null || { echo "canary-demo: $tool is missing; apt-get install nginx prometheus python3 git" >&2; exit 2; }
done
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"; export NGINX_BIN
[ -x "$NGINX_BIN" ] || { echo "canary-demo: nginx is missing; apt-get install nginx" >&2; exit 2; }
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
export PATH="$root/target/release:$PATH" CONDUCTOR_KEY_PASSPHRASE="${CONDUCTOR_KEY_PASSPHRASE:-demo passphrase}"

work="$(mktemp -d)"
pids=()
cleanup() {
  [ -f "$work/nginx/nginx.pid" ] && "$NGINX_BIN" -p "$work/nginx" -c nginx.conf -s stop 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
app="$root/examples/service/app.py"
deploy="$root/examples/service/deploy"
export NGINX_PREFIX="$work/nginx" STABLE_ADDR=127.0.0.1:18301 CANARY_ADDR=127.0.0.1:18302

# The stable version, nginx in front of it, Prometheus, and load.
PORT=18301 VERSION=v1.0.0 python3 "$app" & pids+=($!)
mkdir -p "$work/nginx/logs" "$work/nginx/tmp" "$work/prometheus"
cat > "$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    include upstream.conf;
    server { listen 127.0.0.1:18300; location / { proxy_pass http://orders; } }
}
EOF
printf 'upstream orders {\n    server %s weight=100;\n}\n' "$STABLE_ADDR" > "$work/nginx/upstream.conf"
"$NGINX_BIN" -p "$work/nginx" -c nginx.conf & pids+=($!)
cat > "$work/prometheus/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: orders
    static_configs: [{targets: ['$STABLE_ADDR', '$CANARY_ADDR']}]
EOF
prometheus --config.file="$work/prometheus/prometheus.yml" --storage.tsdb.path="$work/prometheus/tsdb" --web.listen-address=127.0.0.1:18390 >/dev/null 2>&1 & pids+=($!)
python3 - <<'EOF' & pids+=($!)
import time, urllib.request
while True:
    try:
        urllib.request.urlopen("http://127.0.0.1:18300/orders/1001", timeout=2).read()
    except Exception:
        pass
    time.sleep(0.005)
EOF

# A release of a repository whose phases hold one check each, so the demo reaches the canary
# steps; Alice is the one-member change advisory board.
release() {
  local dir="$work/release-$1"
  mkdir -p "$dir/agents" "$dir/phases" && cd "$dir"
  git init -q -b main
  printf '[[agent]]\nname = "Checker"\nkind = "command"\nphases = ["P0", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"]\nrecord_type = "check"\ninputs = ["command"]\nsummary = "runs the configured check"\n' > agents/roster.toml
  for id in P0 P1 P2 P3 P4 P5 P6 P7 P8; do
    case $id in P6) req='"P0", "P1", "P2", "P3", "P4", "P5"' ;; P8) req='"P6", "P7"' ;; *) req='' ;; esac
    printf 'id = "%s"\nname = "%s"\nrequires = [%s]\n\n[[gate]]\nid = "checked"\npolicy = "identity"\nagents = ["Checker"]\nneeds = ["check"]\n' "$id" "$id" "$req" > "phases/$id.toml"
  done
  # The example service's own [promotion], its driver scripts found in the example.
  { printf '[agents."Checker"]\ncommand = "python3 -m py_compile %s"\n\n' "$app"
    sed -n '/^\[promotion\]$/,$p' "$root/examples/service/conductor.toml" | sed "s#\"deploy/#\"$deploy/#g"
  } > conductor.toml
  printf '/keys/\n/trust.toml\n/*.zip\n/incidents/\n' > .gitignore
  git add -A && git -c user.name=Demo -c user.email=demo@example.com commit -qm "feat: orders $1"
  conductor keygen --out keys/notary >/dev/null 2>&1
  local alice; alice="$(conductor keygen --out keys/alice 2>/dev/null)"
  conductor init --version "v$1" --key keys/notary.key >/dev/null
  printf '\n[[keys]]\nid = "%s"\nname = "alice"\npublic_key = """\n%s"""\nphases = ["P6"]\npredicate_types = ["https://conductor.dev/attestation/approval/v1"]\nidentity = "alice@example.com"\n\n[roles.cab]\nthreshold = 1\nkeys = ["%s"]\n' "$alice" "$(cat keys/alice.pub)" "$alice" >> trust.toml
  conductor run --all >/dev/null
  conductor approve --role cab --key keys/alice.key --decision approve --reason "evidence read" >/dev/null
  conductor pack >/dev/null
}

echo "== a good version: 10 -> 50 -> 100"
PORT=18302 VERSION=v1.1.0 ERROR_RATE=0 python3 "$app" & canary=$!; pids+=($canary)
sleep 6
release 1.1.0
conductor promote || true
cat "$NGINX_PREFIX/upstream.conf"

echo "== a version failing its order lookups: rolled back at 10%"
kill "$canary"; "$deploy/rollback.sh" orders >/dev/null
PORT=18302 VERSION=v1.2.0 ERROR_RATE=1 python3 "$app" & pids+=($!)
sleep 6
release 1.2.0
set +e; conductor promote; code=$?; set -e
echo "exit $code"
cat incidents/INC-*.md
