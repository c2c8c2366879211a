#!/usr/bin/env bash
# DR drill: back up the service's data (the order reports and docs), lose the
# restored copy, restore it from the backup and check every file against the
# original. Prints conductor/drill-events/v1 JSON lines on stdout (the drill
# kind reads them); progress goes to stderr.
set -euo pipefail
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
event() { printf '{"event":"%s","at":"%s"}\n' "$1" "$(now)"; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

event start
find reports docs -type f -print0 | sort -z | xargs -0 sha256sum > "$scratch/originals.sha256"
tar -cf "$scratch/backup.tar" reports docs
backup_at=$(date -u +%s)
mkdir "$scratch/live" && tar -xf "$scratch/backup.tar" -C "$scratch/live"
echo "backup taken; losing the live copy" >&2

event outage
lost_at=$(date -u +%s)
rm -rf "$scratch/live"
printf '{"event":"data_loss_window","seconds":%d}\n' $((lost_at - backup_at))

mkdir "$scratch/live" && tar -xf "$scratch/backup.tar" -C "$scratch/live"
if (cd "$scratch/live" && sha256sum -c --quiet "$scratch/originals.sha256" >&2); then
  ok=true
else
  ok=false
fi
event recovered
printf '{"event":"check","name":"restored files match the originals","ok":%s}\n' "$ok"
event end
