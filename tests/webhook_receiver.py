"""A webhook receiver for Cohort's tests, and a verifier that uses the
Standard Webhooks reference library (what integrators use).

    python webhook_receiver.py serve PORT DIR   # records requests to DIR/requests.jsonl,
                                                # answers with the status in DIR/status (default 200),
                                                # after DIR/delay_ms milliseconds (default none),
                                                # with a Location header from DIR/location (if any)
    python webhook_receiver.py verify SECRET FILE
                                                # prints one line per request: "ok <type>" or "bad <reason>"
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port, directory):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            try:
                with open(os.path.join(directory, "delay_ms")) as f:
                    time.sleep(int(f.read().strip()) / 1000)
            except (OSError, ValueError):
                pass
            record = {
                "method": self.command,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
            with open(os.path.join(directory, "requests.jsonl"), "a") as f:
                f.write(json.dumps(record) + "\n")
            try:
                with open(os.path.join(directory, "status")) as f:
                    status = int(f.read().strip())
            except (OSError, ValueError):
                status = 200
            self.send_response(status)
            try:
                with open(os.path.join(directory, "location")) as f:
                    self.send_header("Location", f.read().strip())
            except OSError:
                pass
            self.end_headers()

        # A followed redirect may arrive as a GET (after a 302 or 303): it is recorded too.
        do_GET = do_POST

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        # The default listen backlog of 5 drops connection attempts when Cohort delivers a batch
        # side by side; each dropped SYN costs the sender a one-second retransmit.
        request_queue_size = 256

    Server(("127.0.0.1", port), Handler).serve_forever()


def verify(secret, path):
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(secret)
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            try:
                payload = hook.verify(record["body"], record["headers"])
                # Deliveries name their type; automations' calls carry the event that ran them.
                print("ok", payload.get("type") or payload["event"]["type"])
            except Exception as e:  # noqa: BLE001 - report any verification failure
                print("bad", type(e).__name__)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        verify(sys.argv[2], sys.argv[3])
