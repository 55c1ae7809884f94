#!/usr/bin/env python3
"""Assemble a release from what `make release` built (cargo lambda): the seven functions as
Lambda zips, the template rewritten to use them (ready for `sam package`, which uploads them
and rewrites the URIs, and `sam publish`), the README and license it publishes with, the
console for Linux x86_64 and aarch64, and SHA-256 sums of everything.

Usage: release.py <out dir> <version>; reads target/lambda*/ as cargo lambda left them.
"""
import hashlib
import re
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ["shipment-webhook", "return-webhook", "order-webhook", "delivery-worker", "reconciler", "backfill-worker", "release-page"]
CONSOLE = {  # target triple -> where cargo lambda put it
    "aarch64-unknown-linux-gnu": ROOT / "target/lambda/bridge-admin/bootstrap",
    "x86_64-unknown-linux-gnu": ROOT / "target/lambda-x86_64/bridge-admin/bootstrap",
}


def release_template(text: str) -> str:
    """The template with each function's `CodeUri: .` (built by cargo lambda through
    `sam build`) pointing at its zip, and the build metadata dropped."""
    out, binary = [], None
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip() == "BuildMethod: rust-cargolambda":
            continue
        if line.strip() == "BuildProperties:":
            binary = next(lines).split("Binary:")[1].strip()
            continue
        if line.strip() == "CodeUri: ." and binary:
            line = line.replace("CodeUri: .", f"CodeUri: {binary}.zip")
            binary = None
        out.append(line)
    result = "\n".join(out) + "\n"
    assert result.count(".zip") == len(FUNCTIONS), "every function points at its zip"
    return result


def consoles(args: list) -> dict:
    """The consoles to pack: `--consoles aarch64[,x86_64]` (make test's check packs the one it
    builds), else both."""
    if "--consoles" not in args:
        return CONSOLE
    wanted = args[args.index("--consoles") + 1].split(",")
    return {t: b for t, b in CONSOLE.items() if t.split("-")[0] in wanted}


def main() -> None:
    out, version = Path(sys.argv[1]), sys.argv[2]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in FUNCTIONS:
        shutil.copy(ROOT / f"target/lambda/{name}/bootstrap.zip", out / f"{name}.zip")
    template = (ROOT / "template.yaml").read_text()
    declared = re.search(r"SemanticVersion: (\S+)", template).group(1)
    if declared != version:
        sys.exit(f"template.yaml's SemanticVersion is {declared}, the workspace's {version}")
    (out / "template.yaml").write_text(release_template(template))
    for doc in ["README.md", "LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"]:
        shutil.copy(ROOT / doc, out / doc)
    for triple, binary in consoles(sys.argv[3:]).items():
        archive = out / f"bridge-admin-{version}-{triple}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(binary, arcname=f"bridge-admin-{version}-{triple}/bridge-admin")
            for doc in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"]:
                tar.add(ROOT / doc, arcname=f"bridge-admin-{version}-{triple}/{doc}")
    sums = []
    for path in sorted(p for p in out.iterdir() if p.name != "SHA256SUMS"):
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    print(f"release {version}: {len(sums)} files in {out}")


if __name__ == "__main__":
    main()
