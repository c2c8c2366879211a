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
trap 'kill $service 2>/dev/null || true' EXIT

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
echo "pack: $work/evidence-v1.0.0.zip"
