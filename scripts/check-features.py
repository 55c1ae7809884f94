#!/usr/bin/env python3
"""`make structure`: a plain build of the default members resolves every crate with the same
features as their tests' build (workspace-hack/Cargo.toml says why), so `make demo` and
`make local-invoke` reuse what `cargo test` compiled. Lists each crate whose features differ
and the features to add to workspace-hack/Cargo.toml (`cargo tree`, the lock file as it is)."""
import subprocess
import sys


def features(edges):
    out = subprocess.run(
        ["cargo", "tree", "--locked", "-e", edges, "-f", "{p} {f}", "--prefix", "none"],
        capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.replace(" (*)", "").split()
        if len(parts) < 2:
            continue
        feats = parts[-1] if len(parts) > 2 and not parts[-1].startswith("(") else ""
        found.setdefault(" ".join(parts[:2]), set()).add(feats)
    return found


def main():
    build, test = features("normal,build"), features("normal,build,dev")
    differ = [k for k in sorted(build) if build[k] != test.get(k)]
    for crate in differ:
        print(f"{crate}: built with {sorted(build[crate])}, tested with {sorted(test.get(crate, []))}: add them to workspace-hack/Cargo.toml")
    print(f"features: {len(build)} crates of the default members, {len(differ)} built with other features than their tests'")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
