#!/usr/bin/env python3
"""`make fuzz`: run every cargo-fuzz target (fuzz/fuzz_targets) for FUZZ_SECONDS each, seeded
from fixtures/ and events/, and print executions and crashes per target.

Installs cargo-fuzz into .venv if missing. Uses the nightly toolchain when rustup has one,
else the stable compiler with RUSTC_BOOTSTRAP=1 (libFuzzer's flags are nightly-only; the
product itself never builds this way). Targets run two at a time (the machine has 2 cores).
A crash leaves its input in fuzz/artifacts/<target>/: copy it into fuzz/regressions/<target>/,
where `make test` replays it (shared/tests/bridge/properties.rs).

Usage: scripts/fuzz.py [target ...]   (FUZZ_SECONDS, FUZZ_JOBS in the environment)
"""

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
VENV = ROOT / ".venv"

# Seeds: the files each target starts from (a whole API Gateway event is a valid input of a
# webhook target too: the harness tries every input as an event as well as a body).
SEEDS = {
    "webhook_shipment": ["fixtures/qapla/shipment-*.json", "events/shipment-*.json"],
    "webhook_return": ["fixtures/qapla/return-*.json", "events/return-*.json"],
    "webhook_order": ["fixtures/qapla/orders.json", "events/orders.json"],
    "queue_message": ["events/sqs-*.json", "fixtures/queue/*.jsonl"],
    "channel_secret": ["local/channels.example.json"],
    "qapla_answer": ["fixtures/qapla-api/*.json"],
}


def cargo_fuzz() -> list[str]:
    """The cargo fuzz command, installed into .venv when the machine lacks it."""
    if shutil.which("cargo-fuzz") is None and not (VENV / "bin" / "cargo-fuzz").exists():
        subprocess.run(
            ["cargo", "install", "--quiet", "--locked", "cargo-fuzz", "--root", str(VENV)],
            check=True,
        )
    nightly = subprocess.run(
        ["rustup", "run", "nightly", "rustc", "--version"], capture_output=True
    ).returncode == 0
    return ["cargo", "+nightly", "fuzz"] if nightly else ["cargo", "fuzz"]


def seed(target: str) -> Path:
    corpus = FUZZ / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    for pattern in SEEDS[target]:
        for path in sorted(ROOT.glob(pattern)):
            if path.suffix == ".jsonl":
                for i, line in enumerate(path.read_text().splitlines()):
                    if line.strip():
                        (corpus / f"seed-{path.stem}-{i}").write_text(line)
            else:
                shutil.copy(path, corpus / f"seed-{path.name}")
    if target == "channel_secret":
        import json

        channels = json.loads((ROOT / "local/channels.example.json").read_text())
        for name, settings in channels.items():
            (corpus / f"seed-channel-{name}").write_text(json.dumps(settings))
    return corpus


def run(command: list[str], target: str, seconds: int, env: dict) -> dict:
    corpus = seed(target)
    log = FUZZ / "artifacts" / f"{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    args = command + [
        "run", "--sanitizer", "none", target, str(corpus), "--",
        f"-max_total_time={seconds}", "-print_final_stats=1", "-timeout=10",
        "-rss_limit_mb=2048", "-max_len=4096",
    ]
    found = FUZZ / "artifacts" / target
    before = set(found.glob("crash-*")) if found.exists() else set()
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(args, cwd=FUZZ, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = round(time.monotonic() - started)
    text = log.read_text(errors="replace")
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    # Only this run's: earlier crash inputs stay until someone moves them to regressions/.
    crashes = sorted(set(found.glob("crash-*")) - before) if found.exists() else []
    return {
        "target": target,
        "execs": int(execs[-1]) if execs else 0,
        "seconds": seconds,
        "crashed": code != 0,
        "artifacts": [str(p.relative_to(ROOT)) for p in crashes],
        "log": str(log.relative_to(ROOT)),
    }


def main() -> int:
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    jobs = int(os.environ.get("FUZZ_JOBS", "2"))
    targets = sys.argv[1:] or list(SEEDS)
    unknown = [t for t in targets if t not in SEEDS]
    if unknown:
        print(f"unknown targets: {unknown}; known: {list(SEEDS)}", file=sys.stderr)
        return 2
    env = dict(os.environ, PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
    command = cargo_fuzz()
    if command[1] != "+nightly":
        env["RUSTC_BOOTSTRAP"] = "1"
    # Build every target once before the clock starts.
    subprocess.run(command + ["build", "--sanitizer", "none"], cwd=FUZZ, env=env, check=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda t: run(command, t, seconds, env), targets))
    # `seconds`: how long each target really ran (a crash stops it early).
    print(f"\n{'target':<18} {'seconds':>8} {'executions':>12} {'exec/s':>8}  crashes")
    failed = False
    for r in results:
        crashes = len(r["artifacts"]) or (1 if r["crashed"] else 0)
        failed |= crashes > 0
        rate = r["execs"] // max(r["seconds"], 1)
        print(f"{r['target']:<18} {r['seconds']:>8} {r['execs']:>12,} {rate:>8,}  {crashes}")
        for a in r["artifacts"]:
            print(f"    crash input: {a} (log: {r['log']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
