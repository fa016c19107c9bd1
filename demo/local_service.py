"""What the demo stand-ins for operators' services share: a handler that answers JSON and
self-refreshing HTML pages, and serving it on loopback with the `READY <url>` line the local
stack waits for. The demo services only; not part of the bridge."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def send_json(self, status, body):
        self.send_body(status, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode())

    def send_page(self, title, body_html):
        """A page that refreshes itself every 2 s (what the demo shows changes as the bridge calls)."""
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>{title}</title><style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}
li{{list-style:none;border-bottom:1px solid #ddd;padding:.5rem 0}}p{{margin:.3rem 0}}</style></head>
<body><h1>{title}</h1>{body_html}</body></html>"""
        self.send_body(200, "text/html; charset=utf-8", page.encode())

    def send_body(self, status, content_type, data):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(handler, port):
    """Serves `handler` on 127.0.0.1:`port` (0: any free port) until the process ends."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    print(f"READY http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
