#!/usr/bin/env python3
"""Chaos experiment: kill the running service with SIGKILL, let a supervisor
start it again, and measure how long until it answers; then check the steady
state (a known order still reads back). `--kills N` repeats the fault.
`--game-day` also measures the incident timings: how long the health probe
took to notice the outage (time_to_detect_seconds) and how long until the
service answered again (time_to_mitigate_seconds).

Prints conductor/drill-events/v1 JSON lines on stdout for the drill kind.
"""

import argparse
import datetime
import json
import subprocess
import sys
import time
import urllib.request

# The server exits when its standard input closes, so it never outlives the
# experiment (even one stopped by the drill's timeout).
SERVE = (
    "import http.server, os, sys, threading, app\n"
    "threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), app.Handler)\n"
    "print(s.server_port, flush=True)\n"
    "s.serve_forever()\n"
)


def emit(**event):
    print(json.dumps(event), flush=True)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def start():
    proc = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
            return r.status, json.load(r)
    except OSError:
        return None, None


def wait_healthy(port, deadline):
    while time.monotonic() < deadline:
        if get(port, "/healthz")[0] == 200:
            return True
        time.sleep(0.02)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=1)
    parser.add_argument("--game-day", action="store_true")
    args = parser.parse_args()
    proc, port = start()
    if not wait_healthy(port, time.monotonic() + 10):
        emit(event="check", name="service starts", ok=False)
        return 1
    emit(event="start", at=now())
    worst = detected = 0.0
    for _ in range(args.kills):
        proc.kill()
        proc.wait()
        emit(event="outage", at=now())
        down = time.monotonic()
        while get(port, "/healthz")[0] == 200:
            time.sleep(0.01)
        detected = time.monotonic() - down
        proc, port = start()
        if not wait_healthy(port, down + 30):
            emit(event="check", name="service recovers", ok=False, detail="no answer within 30 s")
            break
        worst = max(worst, time.monotonic() - down)
        emit(event="recovered", at=now())
    emit(event="metric", name="rto_seconds", value=round(worst, 3))
    if args.game_day:
        emit(event="metric", name="time_to_detect_seconds", value=round(detected, 3))
        emit(event="metric", name="time_to_mitigate_seconds", value=round(worst, 3))
    status, body = get(port, "/orders/1001")
    emit(event="check", name="steady-state", ok=status == 200 and body == {"status": "shipped"}, detail=f"GET /orders/1001 answered {status}")
    proc.kill()
    proc.wait()
    emit(event="end", at=now())
    return 0


if __name__ == "__main__":
    sys.exit(main())
