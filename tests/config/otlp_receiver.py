"""A local OTLP/HTTP log receiver on 127.0.0.1: records every JSON body POSTed to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.gate.wait(30)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.server.lock:
            self.server.posts.append({"path": self.path, "headers": headers, "body": body})
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


class Receiver(ThreadingHTTPServer):
    posts: list[dict[str, Any]]
    lock: threading.Lock
    gate: threading.Event  # cleared: requests wait (a slow collector)
    status: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def records(self) -> list[dict[str, Any]]:
        """Every posted log record, each with its attributes as a plain dict."""
        out = []
        with self.lock:
            posts = list(self.posts)
        for post in posts:
            for resource in post["body"]["resourceLogs"]:
                for scope in resource["scopeLogs"]:
                    for record in scope["logRecords"]:
                        attrs = {
                            a["key"]: next(iter(a["value"].values())) for a in record["attributes"]
                        }
                        out.append({**record, "attrs": attrs})
        return out

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            records = self.records()
            if predicate(records):
                return records
            if time.monotonic() > deadline:
                raise AssertionError(f"the receiver never got what was expected: {records}")
            time.sleep(0.05)


@contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), _Handler)
    server.posts = []
    server.lock = threading.Lock()
    server.gate = threading.Event()
    server.gate.set()
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.gate.set()
        server.shutdown()
        server.server_close()
