"""A stand-in for one classroom service: answers / and /health on its port, logs each request.

Run as the seed's services ran: `python3 serve.py --port 8003 --name "Student Hub"`.
"""
import argparse
import http.server
import json
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"service": args.name, "path": self.path, "ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *values: object) -> None:
            print(f"{args.name}: {format % values}", flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"{args.name} listening on 127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    print(f"{args.name} stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
