#!/usr/bin/env python3
"""Makes HTTP traffic on 127.0.0.1 for a Zeek worker sniffing "lo".

Usage: http-traffic.py PORT [--requests N]

Serves a small page on 127.0.0.1:PORT (a thread of this process, so the
server is listening before the first request) and GETs it N times (default
3), each over a connection of its own, with the User-Agent
"zeromqwriter-test/1.0". Then stops. Exits 0 if every request got the page.
"""

import argparse
import http.server
import sys
import threading
import urllib.request

BODY = b"<html><body>" + b"zeromqwriter zeekctl test " * 20 + b"</body></html>\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", help="port to serve on (a @TEST-PORT value such as 25010/tcp)")
    p.add_argument("--requests", type=int, default=3)
    args = p.parse_args()
    port = int(args.port.split("/")[0])

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    status = 0
    try:
        for i in range(args.requests):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/page-{i}",
                                         headers={"User-Agent": "zeromqwriter-test/1.0"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                if resp.read() != BODY:
                    print(f"http-traffic.py: request {i}: unexpected body", file=sys.stderr)
                    status = 1
    finally:
        server.shutdown()
        server.server_close()

    print(f"http-traffic.py: {args.requests} requests to 127.0.0.1:{port}")
    return status


if __name__ == "__main__":
    sys.exit(main())
