#!/usr/bin/env python3
"""Size budget of the functions' arm64 binaries, as `sam build` leaves them.

Every `.aws-sam/build/<Function>/bootstrap` must be at most 6,000,000 bytes (stripped,
arm64): a larger binary is a slower cold start and a sign a dependency came back (aws-lc,
aws-config, regex...). Without `sam build` artifacts there is nothing to check, and the
script says so. `make bench` measures the rest (cold start, CPU, memory).
"""
import pathlib
import sys

BUDGET = 6_000_000
BUILD = pathlib.Path(__file__).resolve().parent.parent / ".aws-sam" / "build"


def main() -> int:
    binaries = sorted(BUILD.glob("*/bootstrap"))
    if not binaries:
        print(f"sizes: no sam build artifacts in {BUILD}: nothing to check")
        return 0
    over = 0
    for binary in binaries:
        size = binary.stat().st_size
        verdict = "ok" if size <= BUDGET else "OVER BUDGET"
        print(f"sizes: {binary.parent.name} {size / 1e6:.2f} MB (budget {BUDGET / 1e6:.0f} MB) {verdict}")
        over += size > BUDGET
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
