#!/usr/bin/env bash
# Gives a copy of this service a git history of conventional commits and
# release tags, in the folder it runs in (a scratch copy, never this repository).
set -euo pipefail
[ -e .git ] && { echo "make-history.sh: $(pwd) already has a .git; run it in a fresh copy" >&2; exit 2; }
export GIT_AUTHOR_NAME="Ada Example" GIT_AUTHOR_EMAIL="ada@example.com"
export GIT_COMMITTER_NAME="Ada Example" GIT_COMMITTER_EMAIL="ada@example.com"
commit() { GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" git commit -q --allow-empty -m "$2"; }
git init -q -b main
git add app.py requirements.txt
commit "2026-09-01T09:00:00Z" "feat: serve order status over HTTP"
git tag v0.1.0
git add reports docs
commit "2026-09-15T10:30:00Z" "test: add the order lookup suite and coverage report"
commit "2026-10-02T14:00:00Z" "fix: answer 404 for unknown orders"
git tag v0.2.0
git add -A
commit "2026-11-10T11:15:00Z" "feat(ops): health endpoint and runbook"
commit "2026-11-18T16:45:00Z" "docs: release notes and risk register for v1.0.0"

# A bare "origin" beside the copy, standing in for the hosted remote, so the
# pre-flight can compare the release branch with origin/main.
git init -q --bare -b main ../origin.git
git remote add origin ../origin.git
git push -q -u origin main
