#!/bin/sh
# The promotion driver's set_weight command for nginx: gives the canary WEIGHT
# percent of the traffic nginx sends to SERVICE by rewriting the weighted
# upstream in $NGINX_PREFIX/upstream.conf and reloading nginx.
#   usage: set-weight.sh SERVICE WEIGHT
#   needs: NGINX_PREFIX (the prefix folder holding nginx.conf), STABLE_ADDR and
#          CANARY_ADDR (host:port of the two versions); NGINX_BIN, when nginx is
#          not on PATH or in /usr/sbin (not NGINX, which nginx itself reads)
set -eu
service="$1" weight="$2"
: "${NGINX_PREFIX:?set NGINX_PREFIX to the folder holding nginx.conf}"
: "${STABLE_ADDR:?set STABLE_ADDR to the stable version host:port}"
: "${CANARY_ADDR:?set CANARY_ADDR to the canary version host:port}"
case "$weight" in ''|*[!0-9]*) echo "set-weight.sh: weight '$weight' is not a percent" >&2; exit 2 ;; esac
[ "$weight" -le 100 ] || { echo "set-weight.sh: weight $weight is over 100" >&2; exit 2; }
stable=$((100 - weight))
tmp="$NGINX_PREFIX/upstream.conf.tmp"
echo "upstream $service {" > "$tmp"
if [ "$stable" -gt 0 ]; then echo "    server $STABLE_ADDR weight=$stable;" >> "$tmp"; fi
if [ "$weight" -gt 0 ]; then echo "    server $CANARY_ADDR weight=$weight;" >> "$tmp"; fi
echo "}" >> "$tmp"
mv "$tmp" "$NGINX_PREFIX/upstream.conf"
# Debian puts nginx in /usr/sbin, which a user's PATH may lack.
nginx="${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}"
"$nginx" -p "$NGINX_PREFIX" -c nginx.conf -t -q
"$nginx" -p "$NGINX_PREFIX" -c nginx.conf -s reload
echo "$service: canary $weight%, stable $stable%"
