"""A small order-lookup service used as the release example.

PORT (default 8080) is where it listens, VERSION (default 1.0.0) the version it
reports on /metrics, and ERROR_RATE (default 0) the share of order lookups it
answers with 500, for canary drills of a bad release.
"""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import threading

ORDERS = {"1001": {"status": "shipped"}, "1002": {"status": "pending"}}
VERSION = os.environ.get("VERSION", "1.0.0")
ERROR_RATE = float(os.environ.get("ERROR_RATE", "0"))

lock = threading.Lock()
counts = {}
lookups = 0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/metrics":
            return self._metrics()
        if self.path == "/healthz":
            return self._reply(200, {"ok": True})
        if self.path.startswith("/orders/"):
            if self._fails():
                return self._reply(500, {"error": "order store unavailable"})
            order = ORDERS.get(self.path.rsplit("/", 1)[-1])
            if order is None:
                return self._reply(404, {"error": "no such order"})
            return self._reply(200, order)
        return self._reply(404, {"error": "not found"})

    def _fails(self):
        # Every n-th lookup fails, so the error rate is exact rather than random.
        global lookups
        with lock:
            lookups += 1
            return ERROR_RATE > 0 and int(lookups * ERROR_RATE) != int((lookups - 1) * ERROR_RATE)

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        with lock:
            counts[status] = counts.get(status, 0) + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _metrics(self):
        lines = ["# TYPE http_requests_total counter"]
        with lock:
            for code, n in sorted(counts.items()):
                lines.append(f'http_requests_total{{version="{VERSION}",code="{code}"}} {n}')
        data = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
