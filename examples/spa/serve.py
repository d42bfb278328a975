#!/usr/bin/env python3
"""Serves the example SPA: its static files with the right MIME types, and index.html for
every other path, so the links in Warren's emails (/verify-email#token=…) open the app.

    python3 examples/spa/serve.py [--port 5173] [--bind 127.0.0.1] [--warren http://localhost:8000]

--warren replaces the URL in config.js (the end-to-end tests start Warren on a free port).
"""

import argparse
import functools
import http.server
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


class SpaHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".css": "text/css",
        ".html": "text/html",
        ".json": "application/json",
    }
    warren_url = None

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/config.js" and self.warren_url:
            return self.send_text(f"export const WARREN_URL = {json.dumps(self.warren_url)};\n")
        if path == "/serve.py" or not os.path.isfile(os.path.join(HERE, path.lstrip("/"))):
            self.path = "/index.html"
        return super().do_GET()

    def send_text(self, text):
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self):
        # The files change while you edit them; never serve a stale module.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        if os.environ.get("SPA_QUIET") != "1":
            super().log_message(format, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5173)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--warren", help="Warren's base URL (default: config.js's)")
    args = parser.parse_args()
    SpaHandler.warren_url = args.warren
    handler = functools.partial(SpaHandler, directory=HERE)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), handler)
    print(f"example SPA on http://localhost:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
