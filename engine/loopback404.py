"""Tiny HTTP server on 127.0.0.1 that answers 404 to every request.

Used by engine/preview.sh as the GitHub API base URL for offline previews:
the GitHub provider's configure looks up the owner organisation and treats a
404 as "not an organisation", while a connection error fails the preview.

Usage: python3 loopback404.py PORTFILE
Writes the chosen port to PORTFILE, then serves until its parent process
exits, it receives SIGTERM, or ENGINE_LOOPBACK_MAX_SECONDS (default 7200) pass.
"""

import http.server
import json
import os
import sys
import threading
import time


class NotFound(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"message": "Not Found", "status": "404"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        if os.environ.get("ENGINE_LOOPBACK_LOG"):
            sys.stderr.write("loopback404: " + format % args + "\n")


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
    setattr(NotFound, "do_" + _method, NotFound._answer)


def main() -> None:
    portfile = sys.argv[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    server.daemon_threads = True
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, portfile)

    parent = os.getppid()
    deadline = time.monotonic() + float(os.environ.get("ENGINE_LOOPBACK_MAX_SECONDS", "7200"))

    def watchdog() -> None:
        while os.getppid() == parent and time.monotonic() < deadline:
            time.sleep(0.5)
        server.shutdown()

    threading.Thread(target=watchdog, daemon=True).start()
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
