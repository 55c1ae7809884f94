#!/usr/bin/env python3
"""`make demo`: run the three webhook functions locally and show what they do.

- channel settings come from local/channels.example.json (not Secrets Manager);
- Connectif is a capture server on 127.0.0.1 that records every request; the same server
  stands in for Qapla's getShipment API (v1.2 payloads carry no customer);
- the functions run against `cargo lambda watch --only-lambda-apis` (the Lambda runtime
  emulator), started here as watch itself starts them (the same variables), with the
  in-process hand-off: `make demo` builds them first; `--prebuilt` (make test) runs the
  debug binaries the tests built, so the gate does not compile them a second time;
- every sample in events/ is sent with `cargo lambda invoke`, then Qapla's answer and the
  Connectif request(s) it caused are printed.
Loopback only. Exits non-zero if any answer is not the expected one.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "demo"
FUNCTIONS = {"shipments": "shipment-webhook", "returns": "return-webhook", "orders": "order-webhook"}
# Every function `make demo` and `make local-invoke` (which reuses this build) send events to.
FUNCTION_BINS = [*FUNCTIONS.values(), "delivery-worker", "release-page"]
CAPTURED = []
QAPLA_CALLS = []


class Capture(BaseHTTPRequestHandler):
    """A stand-in for Connectif: records the request, answers 201 like the Public API."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        auth = self.headers.get("authorization")
        if auth and ":" in auth:  # show that the key is sent, not the secret half
            auth = auth.split(":", 1)[0] + ":***"
        CAPTURED.append({"url": self.path, "authorization": auth, "body": json.loads(body or b"null")})
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self):
        """Qapla's getShipment: a demo customer for any tracking number. As Qapla' documents
        it, the consignee comes only when `data` asks for it (consignee or all)."""
        from urllib.parse import parse_qs, urlparse
        url = urlparse(self.path)
        query = parse_qs(url.query)
        tracking = (query.get("trackingNumber") or [""])[0]
        data = (query.get("data") or [""])[0].split(",")
        QAPLA_CALLS.append((tracking, ",".join(data)))
        shipment = {
            "trackingNumber": tracking,
            "url": f"https://tracking.qapla.it/demo-{tracking}",
        }
        if "consignee" in data or "all" in data:
            shipment["consignee"] = {"name": "Luca Neri", "email": "luca.neri@example.com", "country": "IT"}
        body = {"getShipment": {"result": "OK", "error": "", "shipment": shipment}}
        payload = json.dumps(body).encode()
        self.send_response(200 if url.path.endswith("/getShipment/") else 404)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


def build_or_find(prebuilt):
    """The debug binaries of FUNCTION_BINS: built here (the workspace's default members'
    features, as `cargo build` selects them), or, `prebuilt`, those `cargo build --all-targets` left in
    target/debug (make test's build of the tests) (the same code; the tests' dev-dependencies add features to a few crates)."""
    if not prebuilt:
        print("Building the functions (debug)...", flush=True)
        bins = [arg for name in FUNCTION_BINS for arg in ("--bin", name)]
        subprocess.run(["cargo", "build", "-q", *bins], cwd=ROOT, check=True)
    found = {name: ROOT / "target" / "debug" / name for name in FUNCTION_BINS}
    missing = [name for name, path in found.items() if not path.is_file()]
    if missing:
        sys.exit(f"no debug build of {', '.join(missing)} in target/debug (run `cargo build --all-targets`)")
    return found


def start_emulator(port, log):
    """`cargo lambda watch --only-lambda-apis` on 127.0.0.1:`port`: the Runtime API and the
    invoke endpoint, no function started by it."""
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
         "--invoke-port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    wait_for(port)
    return watch


def start_functions(binaries, port, env, log):
    """Each function on the emulator's Runtime API, with the variables `cargo lambda watch`
    gives the functions it starts (cargo-lambda-watch's watcher.rs) on top of `env`."""
    started = []
    for name, path in binaries.items():
        variables = {**env, "AWS_LAMBDA_FUNCTION_VERSION": "1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "4096",
                     "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt/{name}",
                     "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_MAX_CONCURRENCY": "1"}
        started.append(subprocess.Popen([str(path)], cwd=ROOT, env=variables, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True))
    return started


def stop(processes):
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def invoke(function, port, data_file=None, data=None):
    cmd = ["cargo", "lambda", "invoke", function, "--invoke-address", "127.0.0.1", "--invoke-port", str(port)]
    cmd += ["--data-file", str(data_file)] if data_file else ["--data-ascii", data]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return None, done.stderr.strip()[-500:]
    response = json.loads(done.stdout)
    return response["statusCode"], response["body"]


def alias_of(url):
    marker = "/custom-events/alias/"
    return url.split(marker, 1)[1].split("?", 1)[0] if marker in url else "?"


def log_lines(offset):
    """Log lines the functions wrote after `offset`, as (new offset, event/refusal lines)."""
    time.sleep(0.1)  # the emulator copies function output asynchronously
    text = (OUT / "lambda.log").read_text(errors="replace")
    found = []
    for line in text[offset:].splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("outcome") and "message" in entry:
            found.append(entry)
    return len(text), found


def show(title, status, body, since, logs, qapla_since=None):
    print(f"\n=== {title}")
    print(f"    Qapla' gets: HTTP {status} {body}")
    for tracking, data in QAPLA_CALLS[qapla_since:] if qapla_since is not None else []:
        print(f"    Qapla' API:  GET getShipment?trackingNumber={tracking}&data={data} (to complete the event)")
    for entry in logs:
        reason = f" ({entry['reason']})" if entry.get("reason") else ""
        print(f"    Bridge log:  {entry.get('kind')} {entry.get('key', '')} -> {entry['outcome']}{reason}")
    sent = CAPTURED[since:]
    if not sent:
        print("    Connectif:   nothing sent")
    for req in sent:
        print(f"    Connectif:   POST {req['url']}")
        print(f"                 alias {alias_of(req['url'])}", end="")
        print(f", Authorization: {req['authorization']}" if req["authorization"] else ", no Authorization (Endpoint URL)")
        for line in json.dumps(req["body"], indent=2, ensure_ascii=False).splitlines():
            print("                 " + line)


def webhook_samples():
    """The webhooks' sample events in events/ (not env.json, the SQS sample or the release
    page's, which `make local-invoke` opens): (path, event, function)."""
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if event.get("routeKey", "").startswith("POST /qapla/"):
            yield path, event, FUNCTIONS[event["routeKey"].rsplit("/", 1)[1]]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    capture_port, lambda_port = free_port(), free_port()
    capture = ThreadingHTTPServer(("127.0.0.1", capture_port), Capture)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    channels = (ROOT / "local" / "channels.example.json").read_text()
    channels = channels.replace("http://127.0.0.1:9911", f"http://127.0.0.1:{capture_port}")
    (OUT / "channels.json").write_text(channels)

    binaries = build_or_find("--prebuilt" in sys.argv[1:])
    log = open(OUT / "lambda.log", "w")
    watch = start_emulator(lambda_port, log)
    functions = start_functions(binaries, lambda_port, {**os.environ, "CHANNELS_FILE": str(OUT / "channels.json")}, log)
    failures = 0
    try:
        offset = 0
        print(f"Functions run on `cargo lambda watch` on 127.0.0.1:{lambda_port}; Connectif capture on 127.0.0.1:{capture_port}.")
        print(f"Function logs (JSON, one line per event): {OUT / 'lambda.log'}")
        for path, event, function in webhook_samples():
            since, qapla_since = len(CAPTURED), len(QAPLA_CALLS)
            status, body = invoke(function, lambda_port, data_file=path)
            offset, logs = log_lines(offset)
            show(f"events/{path.name} -> {function} ({event['rawPath']})", status, body, since, logs, qapla_since)
            failures += status != 200 or body != '{"result":"OK"}'

        # A wrong key: the same opaque KO as an unknown channel, and nothing sent.
        bad = json.loads((ROOT / "events" / "shipment-v1.3-delivered.json").read_text())
        bad["body"] = bad["body"].replace("test-channel-key-it", "not-the-key")
        since = len(CAPTURED)
        status, body = invoke("shipment-webhook", lambda_port, data=json.dumps(bad))
        offset, logs = log_lines(offset)
        show("a shipment with a wrong apiKey -> shipment-webhook", status, body, since, logs)
        failures += status != 401 or body != '{"result":"KO"}'
    finally:
        stop([*functions, watch])
        capture.shutdown()
    print(f"\n{len(CAPTURED)} Connectif requests captured; {failures} unexpected answers.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
