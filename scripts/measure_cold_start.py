"""Measures the login function's time from process start to ready for its first invocation.

It plays the Lambda Runtime API on loopback: "ready" is the moment the binary asks for its
first event (GET /2018-06-01/runtime/invocation/next), after reading its config and building its
SDK clients. The same server stands in for AWS and refuses every call at once (HTTP 400), so
what init loads ahead fails without a wait: the figure is the process's own. (The cold path with
AWS calls is `scripts/cold_path_bench.py`.) Runs the binary RUNS times and prints the median and
the spread.

Usage: python3 scripts/measure_cold_start.py [BINARY] [RUNS]   (default target/release/login, 20)
This machine runs x86_64: the figure is for a native build, a proxy for arm64 on Lambda.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ready = threading.Event()


class RuntimeApi(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            ready.set()
            time.sleep(0.2)  # hold the request; the process is stopped meanwhile
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        """Any AWS call: refused at once, not retried."""
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"__type":"ValidationException","message":"refused"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/login"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "COGNITO_JWKS_URL": f"http://127.0.0.1:{server.server_address[1]}/jwks.json",
        "AWS_LAMBDA_FUNCTION_NAME": "login", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "g", "AWS_LAMBDA_LOG_STREAM_NAME": "s", "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_REGION": "ap-northeast-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
        "TABLE_NAME": "t", "USER_POOL_ID": "ap-northeast-1_X", "USER_POOL_CLIENT_ID": "c", "BRIDGE_SECRET_ID": "s",
        "FORM_URL": "https://login.example.com/index.html",
    }
    times = []
    for _ in range(runs):
        ready.clear()
        start = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not ready.wait(10):
            proc.kill()
            raise SystemExit("the function never asked for an event")
        times.append((time.perf_counter() - start) * 1000)
        proc.kill()
        proc.wait()
    times.sort()
    print(f"start to ready ({runs} runs): median {statistics.median(times):.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()
