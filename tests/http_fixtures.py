"""A scripted HTTP server on loopback that serves a folder laid out like Common Crawl.

Each path can be given a script of what its next requests get: "ok" (the file, honouring Range),
an HTTP status ("404", "500", "429:2" = 429 with Retry-After: 2), "reset" (the connection is reset
before any answer) or "cut" (the headers announce the whole body, half of it is sent, then the
connection closes). Every request is recorded.
"""
from __future__ import annotations

import socket
import struct
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Request:
    path: str
    range: str | None


@dataclass
class ScriptedServer:
    root: Path
    scripts: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, path: str, *actions: str) -> None:
        self.scripts[path].extend(actions)

    def requests_for(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def _reset(connection: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def _handler(server: ScriptedServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.requests.append(Request(path, self.headers.get("Range")))
            script = server.scripts.get(path)
            action = script.popleft() if script else "ok"
            if action == "reset":
                _reset(self.connection)
                self.close_connection = True
                return
            if action not in ("ok", "cut"):
                status, _, retry_after = action.partition(":")
                self.send_response(int(status))
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            file = server.root / path.lstrip("/")
            if not file.is_file():
                self.send_error(404)
                return
            data = file.read_bytes()
            start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            end = start + (len(data) - start) // 2 if action == "cut" else len(data)
            self.wfile.write(data[start:end])
            self.close_connection = True

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # a reset socket is the point, not an error
        pass


def serve(root: Path):
    """Start a `ScriptedServer` for `root`; returns (server, stop)."""
    state = ScriptedServer(root)
    httpd = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()

    return state, stop


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
