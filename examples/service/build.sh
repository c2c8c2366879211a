#!/usr/bin/env bash
# Builds the service's release artifacts into dist/: a source tarball made
# reproducible (sorted names, fixed owner and time) and its SHA-256.
set -euo pipefail
mkdir -p dist
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-11-18 16:45:00Z' \
    -cf - app.py requirements.txt docs | gzip -n > dist/orders-service-1.0.0.tar.gz
(cd dist && sha256sum orders-service-1.0.0.tar.gz > SHA256SUMS)
