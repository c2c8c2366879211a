"""A small order-lookup service used as the release example."""

from http.server import BaseHTTPRequestHandler, HTTPServer
import json
import os

ORDERS = {"1001": {"status": "shipped"}, "1002": {"status": "pending"}}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            return self._reply(200, {"ok": True})
        if self.path.startswith("/orders/"):
            order = ORDERS.get(self.path.rsplit("/", 1)[-1])
            if order is None:
                return self._reply(404, {"error": "no such order"})
            return self._reply(200, order)
        return self._reply(404, {"error": "not found"})

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
