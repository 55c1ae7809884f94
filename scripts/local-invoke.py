#!/usr/bin/env python3
"""What `sam local invoke --env-vars events/env.json` does, checked without Docker.

1. events/env.json names exactly the template's functions (logical ids), and every variable
   it sets is declared for that function in template.yaml (SAM ignores any other).
2. Each function with its environment from env.json, on `cargo lambda watch`'s Runtime API
   (started as the demo starts them; `--prebuilt`: the debug binaries `cargo test` built),
   and every sample event in events/: each webhook event must answer {"result":"OK"} (the
   release page's, its form), each
   SQS event must report no failure.
3. Local mode touches no AWS endpoint: the EC2 metadata address and every AWS endpoint are
   pointed at a local server that must see no request.
Connectif and Qapla's API are the demo's capture server on 127.0.0.1:9911, the address
local/channels.example.json (and so env.json) names. Loopback only.
"""
import json
import os
import pathlib
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import demo  # noqa: E402  (the capture server and helpers)

ROOT = demo.ROOT
PORT = 9911
AWS_CALLS = []
FUNCTIONS = {"ShipmentFunction": "shipment-webhook", "ReturnFunction": "return-webhook",
             "OrderFunction": "order-webhook", "DeliveryFunction": "delivery-worker",
             "ReleaseFunction": "release-page"}


class Capture(demo.Capture):
    """The demo's Connectif/Qapla' stand-in, which also records any AWS or IMDS call."""

    def _aws(self):
        AWS_CALLS.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.end_headers()

    def do_POST(self):
        if self.headers.get("x-amz-target") or self.path == "/":
            return self._aws()
        super().do_POST()

    def do_GET(self):
        if self.path.startswith("/latest/"):
            return self._aws()
        super().do_GET()

    do_PUT = _aws


def template_functions():
    class Loader(yaml.SafeLoader):
        pass
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    doc = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    shared = set(doc["Globals"]["Function"]["Environment"]["Variables"])
    return {
        name: shared | set(((res["Properties"].get("Environment") or {}).get("Variables") or {}))
        for name, res in doc["Resources"].items() if res["Type"] == "AWS::Serverless::Function"
    }


def check_env_file(env):
    declared = template_functions()
    problems = []
    if set(env) != set(declared):
        problems.append(f"env.json functions {sorted(env)} != template functions {sorted(declared)}")
    for function, variables in env.items():
        undeclared = set(variables) - declared.get(function, set())
        if undeclared:
            problems.append(f"{function}: {sorted(undeclared)} not declared in template.yaml (SAM would drop them)")
    return problems


def invoke(function, port, path):
    cmd = ["cargo", "lambda", "invoke", function, "--invoke-address", "127.0.0.1",
           "--invoke-port", str(port), "--data-file", str(path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return None, done.stderr.strip()[-300:]
    return json.loads(done.stdout), ""


def main():
    env = json.loads((ROOT / "events" / "env.json").read_text())
    problems = check_env_file(env)
    for p in problems:
        print("env.json:", p)
    # Every AWS endpoint and the metadata address lead to the recorder. Empty values are left
    # out (the functions read an empty variable as unset, as SAM passes them).
    local = {
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{PORT}",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{PORT}",
    }
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    demo.OUT.mkdir(parents=True, exist_ok=True)
    lambda_port = demo.free_port()
    binaries = demo.build_or_find("--prebuilt" in sys.argv[1:])
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log = open(demo.OUT / "local-invoke.log", "w")
    watch = demo.start_emulator(lambda_port, log)
    functions = []
    for logical_id, name in FUNCTIONS.items():
        variables = {k: v for k, v in env.get(logical_id, {}).items() if v}
        functions += demo.start_functions({name: binaries[name]}, lambda_port,
                                          {**child_env, **variables, **local}, log)
    try:
        for path in sorted((ROOT / "events").glob("*.json")):
            if path.name == "env.json":
                continue
            event = json.loads(path.read_text())
            if "Records" in event:
                function = FUNCTIONS["DeliveryFunction"]
                answer, err = invoke(function, lambda_port, path)
                ok = answer is not None and answer.get("batchItemFailures") == []
            elif event["routeKey"].startswith("GET /release/"):
                # The release page: its form, in the link's language, with the CSRF value.
                function = FUNCTIONS["ReleaseFunction"]
                answer, err = invoke(function, lambda_port, path)
                ok = answer is not None and answer.get("statusCode") == 200 and 'name="csrf"' in answer.get("body", "")
                if answer:
                    answer = {"statusCode": answer.get("statusCode"), "content-type": answer.get("headers", {}).get("content-type")}
            else:
                route = event["routeKey"].rsplit("/", 1)[1]
                function = demo.FUNCTIONS[route]
                answer, err = invoke(function, lambda_port, path)
                ok = answer is not None and answer.get("body") == '{"result":"OK"}'
            print(f"{'ok ' if ok else 'BAD'} {function:17} events/{path.name}: {answer or err}")
            if not ok:
                problems.append(f"events/{path.name}: {answer or err}")
    finally:
        demo.stop([*functions, watch])
        server.shutdown()
    if AWS_CALLS:
        problems.append(f"local mode called AWS: {AWS_CALLS[:5]}")
    print(f"{len(demo.CAPTURED)} Connectif requests, {len(AWS_CALLS)} AWS/IMDS requests; {len(problems)} problems")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
