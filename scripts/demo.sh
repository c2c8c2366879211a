#!/usr/bin/env bash
# The main job on the bundled example: keys, a release of examples/service,
# real evidence attested, a sealed pack, and an offline verification.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
conductor="$root/target/release/conductor"

work="$root/target/demo"
rm -rf "$work" && mkdir -p "$work"
cp -r "$root/examples/service" "$work/service"
cd "$work/service"
git init -q -b main
git add .
git -c user.name="Demo" -c user.email="demo@example.com" commit -qm "feat: sample service"

export CONDUCTOR_KEY_PASSPHRASE="${CONDUCTOR_KEY_PASSPHRASE:-demo passphrase}"
"$conductor" keygen --out keys/notary
"$conductor" init --version v1.0.0 --key keys/notary.key --env prod
"$conductor" attest --phase P0 --type lockfile --file requirements.txt
"$conductor" attest --phase P1 --type junit --file reports/junit.xml --subject app.py
"$conductor" attest --phase P1 --type coverage --file reports/coverage.xml --subject app.py
"$conductor" attest --phase P3 --type sarif --file reports/semgrep.sarif --subject app.py
"$conductor" attest --phase P7 --type runbook --file docs/runbook.md
"$conductor" log
"$conductor" pack --out "$work/evidence-v1.0.0.zip"
"$conductor" verify "$work/evidence-v1.0.0.zip" --trust trust.toml
echo "pack: $work/evidence-v1.0.0.zip"
