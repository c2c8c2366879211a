#!/bin/sh
# The promotion driver's rollback command for nginx: all traffic back to the
# stable version.   usage: rollback.sh SERVICE
set -eu
exec "$(dirname "$0")/set-weight.sh" "$1" 0
