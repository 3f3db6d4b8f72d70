"""While a process waits at start-up for its database or its broker, its health port answers:
alive (``/healthz`` 200) and not ready (``/readyz`` 503, naming what it waits for). A process
that waits must not look dead: an orchestrator's liveness probe would kill it, again and
again, for as long as the outage lasts. Standard library only (``tifli --help`` stays quick);
the service's own health app takes the port over once the wait is done.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

from services.refusals import StartRefused


class _WaitingServer(ThreadingHTTPServer):
    daemon_threads = True
    waiting_for = "start-up"


class _Handler(BaseHTTPRequestHandler):
    server: _WaitingServer

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_POST(self) -> None:
        self._answer(with_body=True)

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _answer(self, *, with_body: bool) -> None:
        path = urlsplit(self.path).path
        media_type = "application/json"
        body: dict[str, object]
        if path == "/healthz":
            status, body = 200, {"status": "ok"}
        elif path == "/readyz":
            status, body = 503, {"status": "waiting", "waiting_for": self.server.waiting_for}
        else:
            # Anything else, the API's routes too (this may be the API's port): not yet, as a
            # database outage is answered later — 503 with Retry-After, never a "not found",
            # and a problem like every other error the API gives (what it waits for, a
            # server's address, is the operator's to read on /readyz, not a client's).
            status, media_type = 503, "application/problem+json"
            body = {
                "type": "about:blank",
                "title": "Service unavailable",
                "status": 503,
                "detail": "Tifli is starting and waits for a service it needs; retry shortly "
                "with the same Idempotency-Key.",
                "instance": quote(unquote(path), safe="/"),  # as the API writes it
            }
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(payload)))
        if status == 503:
            self.send_header("Retry-After", "5")
        self.end_headers()
        if with_body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return  # probes every few seconds: not worth a line each


@contextmanager
def health_while_waiting(host: str, port: int | None) -> Iterator[Callable[[str], None]]:
    """Serves the waiting answers on ``port`` (none: nothing) until the block ends; yields a
    function that says what is waited for now."""
    if port is None:
        yield lambda _: None
        return
    try:
        server = _WaitingServer((host, port), _Handler)
    except OSError as exc:  # the port taken: the service could not serve its health either
        raise StartRefused(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    thread = threading.Thread(target=server.serve_forever, name="health-while-waiting")
    thread.daemon = True
    thread.start()

    def waiting_for(what: str) -> None:
        server.waiting_for = what

    try:
        yield waiting_for
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
