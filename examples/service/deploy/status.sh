#!/bin/sh
# The promotion driver's status command for nginx: the upstream as it stands.
#   usage: status.sh SERVICE
set -eu
: "${NGINX_PREFIX:?set NGINX_PREFIX to the folder holding nginx.conf}"
cat "$NGINX_PREFIX/upstream.conf"
