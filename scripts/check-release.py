#!/usr/bin/env python3
"""Check a release that `make release` assembled, as far as this machine can:

- every artifact is there: seven function zips, the template, README and licenses, the
  console for Linux x86_64 and aarch64, SHA256SUMS — and the sums match;
- each zip holds exactly a `bootstrap`, an aarch64 ELF within the size budget, and each
  console an ELF of its architecture;
- the template passes `sam validate --lint` (cfn-lint) and checkov;
- `sam package` against S3 on a local moto_server uploads every artifact and rewrites every
  URI (the functions' code, the application's license and readme), as the release workflow's
  `sam package` does against real S3 before `sam publish`.

- the repository every link names (Cargo.toml's workspace `repository`: the template's
  home page, source and the alarm e-mails' docs links) is not the placeholder — unless
  `--allow-placeholder` (`make test` builds a release as a check, not to publish it).

Usage: check-release.py <release dir> [--allow-placeholder] [--consoles aarch64[,x86_64]]. Exits 1 naming what failed.
Loopback only.
"""
import hashlib
import os
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
FUNCTIONS = ["shipment-webhook", "return-webhook", "order-webhook", "delivery-worker", "reconciler", "backfill-worker", "release-page"]
BUDGET = 6_000_000  # uncompressed bootstrap, as scripts/check-sizes.py
ELF_MACHINE = {"aarch64": 183, "x86_64": 62}
# The consoles a release holds (`--consoles` names fewer for make test's check).
CONSOLES = ["aarch64", "x86_64"]
problems = []


def check(ok: bool, what: str) -> None:
    print(f"{'✓' if ok else '✗'} {what}")
    if not ok:
        problems.append(what)


def machine(elf: bytes) -> int:
    return int.from_bytes(elf[18:20], "little") if elf[:4] == b"\x7fELF" else -1


def artifacts(rel: Path) -> None:
    sums = dict(
        reversed(line.split("  ", 1)) for line in (rel / "SHA256SUMS").read_text().splitlines()
    )
    files = sorted(p.name for p in rel.iterdir() if p.name != "SHA256SUMS")
    check(sorted(sums) == files, f"SHA256SUMS lists the {len(files)} files of the release")
    for name in files:
        digest = hashlib.sha256((rel / name).read_bytes()).hexdigest()
        check(sums.get(name) == digest, f"{name}: its sum matches")
    for name in FUNCTIONS:
        with zipfile.ZipFile(rel / f"{name}.zip") as z:
            names = z.namelist()
            bootstrap = z.read("bootstrap") if names == ["bootstrap"] else b""
            mode = (z.getinfo("bootstrap").external_attr >> 16) & 0o111 if bootstrap else 0
        check(names == ["bootstrap"], f"{name}.zip holds one file, bootstrap")
        check(machine(bootstrap) == ELF_MACHINE["aarch64"] and mode != 0, f"{name}: an executable aarch64 ELF")
        check(0 < len(bootstrap) <= BUDGET, f"{name}: {len(bootstrap) / 1e6:.2f} MB (budget {BUDGET / 1e6:.0f} MB)")
    consoles = [p for p in rel.iterdir() if p.name.startswith("bridge-admin-")]
    arches = sorted("aarch64" if "aarch64" in p.name else "x86_64" for p in consoles)
    check(arches == sorted(CONSOLES), f"the console for Linux {' and '.join(CONSOLES)}")
    for archive in consoles:
        arch = "aarch64" if "aarch64" in archive.name else "x86_64"
        with tarfile.open(archive) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/bridge-admin"))
            elf = tar.extractfile(member).read(64)
        check(machine(elf) == ELF_MACHINE[arch] and member.mode & 0o111, f"{archive.name}: an executable {arch} ELF")


def linters(rel: Path) -> None:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    lint = subprocess.run(
        [VENV / "bin/sam", "validate", "--lint", "-t", rel / "template.yaml", "--region", "eu-west-1"],
        capture_output=True, text=True, env=env,
    )
    check(lint.returncode == 0, "the release template passes sam validate --lint (cfn-lint)")
    if lint.returncode:
        print(lint.stdout[-2000:], lint.stderr[-2000:])
    scan = subprocess.run(
        [VENV / "checkov/bin/checkov", "-f", rel / "template.yaml", "--framework", "cloudformation",
         "--compact", "--quiet", "--skip-download"],
        capture_output=True, text=True,
    )
    check(scan.returncode == 0, "the release template passes checkov")
    if scan.returncode:
        print(scan.stdout[-3000:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def package(rel: Path) -> None:
    port = free_port()
    moto = subprocess.Popen([VENV / "bin/moto_server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-west-1", SAM_CLI_TELEMETRY="0")
    env.pop("AWS_PROFILE", None)
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        for _ in range(100):
            try:
                s3.list_buckets()
                break
            except Exception:
                time.sleep(0.1)
        s3.create_bucket(Bucket="release", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        packaged = rel.parent / "packaged.yaml"
        run = subprocess.run(
            [VENV / "bin/sam", "package", "-t", rel / "template.yaml", "--s3-bucket", "release",
             "--region", "eu-west-1", "--output-template-file", packaged],
            capture_output=True, text=True, env=env,
        )
        check(run.returncode == 0, "sam package uploads the release to S3 (moto_server)")
        if run.returncode:
            print(run.stdout[-2000:], run.stderr[-2000:])
            return
        text = packaged.read_text()
        uris = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.strip().startswith(("CodeUri:", "LicenseUrl:", "ReadmeUrl:"))]
        check(len(uris) == len(FUNCTIONS) + 2, f"{len(uris)} URIs: the seven functions, the license, the readme")
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="release").get("Contents", [])}
        for uri in uris:
            check(uri.startswith("s3://release/") and uri.split("/", 3)[3] in keys, f"{uri}: uploaded")
        packaged.unlink()
    finally:
        moto.terminate()
        moto.wait()


PLACEHOLDER = "github.com/example/"


def repository(allow_placeholder: bool) -> None:
    """Every link of a published release names the real repository."""
    cargo = (ROOT / "Cargo.toml").read_text()
    line = next((l for l in cargo.splitlines() if l.startswith("repository = ")), "")
    placeholder = PLACEHOLDER in line
    if placeholder and allow_placeholder:
        print(f"– the repository is still the placeholder ({line}): allowed for this check only")
        return
    check(not placeholder, f"the repository is set ({line or 'no repository in Cargo.toml'}); "
          "set it once with `python3 scripts/set-repository.py https://github.com/<owner>/<repo>`")


def main() -> int:
    global CONSOLES
    rel = Path(sys.argv[1])
    allow_placeholder = "--allow-placeholder" in sys.argv[2:]
    if "--consoles" in sys.argv:
        CONSOLES = sys.argv[sys.argv.index("--consoles") + 1].split(",")
        # A release to publish holds both; a check of the release (make test) may hold one.
        check(allow_placeholder or sorted(CONSOLES) == ["aarch64", "x86_64"],
              "a release to publish holds the console for both architectures")
    repository(allow_placeholder)
    artifacts(rel)
    linters(rel)
    package(rel)
    if problems:
        print(f"release: {len(problems)} problem(s)")
        return 1
    print("release: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
