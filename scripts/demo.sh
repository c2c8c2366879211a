#!/usr/bin/env bash
# The main job on the bundled example: a release of examples/service taken
# through every phase (agents check, gates decide, all of it signed evidence),
# sealed into a pack, verified offline, and the gate table printed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
export PATH="$root/target/release:$PATH"

work="$root/target/demo"
rm -rf "$work" && mkdir -p "$work"
cp -r "$root/examples/service" "$work/service"
cd "$work/service"
./make-history.sh

# The service itself, for the Probe Master's synthetic probes.
PORT=18080 python3 app.py & service=$!

# A scratch PostgreSQL for the P2 data-safety agents (DATABASE_URL), when it is
# installed. PostgreSQL refuses to run as root, so under root it runs as postgres.
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pgbin/initdb" ] || pgbin="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
stop_pg() { :; }
if [ -x "$pgbin/initdb" ] && [ -x "$pgbin/pg_ctl" ]; then
  pgdir="$(mktemp -d)"
  as_pg=()
  if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdir"; as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups); fi
  "${as_pg[@]}" "$pgbin/initdb" --auth=trust -U postgres -D "$pgdir/data" >/dev/null
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -o "-k $pgdir -p 15432 -c listen_addresses=127.0.0.1" -l "$pgdir/server.log" -w start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:15432/postgres"
  stop_pg() { "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
else
  echo "PostgreSQL is not installed (apt-get install postgresql): the P2 data-safety gates will fail saying so"
fi
trap 'kill $service 2>/dev/null || true; stop_pg' EXIT

export CONDUCTOR_KEY_PASSPHRASE="${CONDUCTOR_KEY_PASSPHRASE:-demo passphrase}"
conductor keygen --out keys/notary
conductor init --version v1.0.0 --key keys/notary.key --env prod
# Gates whose agent kinds are not built yet fail with that reason: the honest state.
./build.sh
conductor attest --phase P0 --type artifact --file dist/orders-service-1.0.0.tar.gz --subject dist/orders-service-1.0.0.tar.gz
conductor run --all || echo "some gates failed; the reasons are above"
conductor pack --out "$work/evidence-v1.0.0.zip"
conductor verify "$work/evidence-v1.0.0.zip" --trust trust.toml
conductor status
# The release report, and the pack's page for people (open index.html from the unzipped pack).
conductor report >/dev/null
echo "report: $work/service/reports/release-v1.0.0.md"
echo "pack: $work/evidence-v1.0.0.zip (its index.html opens in a browser)"
