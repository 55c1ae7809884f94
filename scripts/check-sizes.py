#!/usr/bin/env python3
"""Size budget of the functions' arm64 binaries, as `sam build` leaves them.

Every `.aws-sam/build/<Function>/bootstrap` must be at most 6,000,000 bytes (stripped,
arm64): a larger binary is a slower cold start and a sign a dependency came back (aws-lc,
aws-config, regex...). Without `sam build` artifacts there is nothing to check, and the
script says so. `make bench` measures the rest (cold start, CPU, memory).

And none of them trusts `make bench`'s TLS stand-ins: the certificate that feature
`bench-ca` compiles in (testkit/tls/self-signed.crt) must not be in any deployed binary.
"""
import base64
import pathlib
import sys

BUDGET = 6_000_000
ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
BENCH_CERTIFICATE = ROOT / "testkit" / "tls" / "self-signed.crt"


def bench_certificate() -> bytes:
    """The stand-ins' certificate, DER (as `CertificateDer::from_pem_slice` holds it)."""
    lines = BENCH_CERTIFICATE.read_text().splitlines()
    return base64.b64decode("".join(l for l in lines if not l.startswith("-----")))


def holds(binary: pathlib.Path, der: bytes) -> bool:
    """Whether the certificate is in the binary, as DER or as the PEM text include_bytes! keeps."""
    data = binary.read_bytes()
    pem_line = BENCH_CERTIFICATE.read_text().splitlines()[1].encode()
    return der in data or pem_line in data


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
        if holds(binary, bench_certificate()):
            print(f"sizes: {binary.parent.name} TRUSTS THE BENCH CERTIFICATE (built with feature bench-ca)")
            over += 1
    if not over:
        print(f"sizes: no deployed binary holds the bench certificate ({len(binaries)} checked)")
    return 1 if over else 0


def self_test() -> int:
    """The detector finds the certificate in a binary that holds it, and only there."""
    import tempfile
    der = bench_certificate()
    with tempfile.TemporaryDirectory() as tmp:
        with_it = pathlib.Path(tmp) / "with"
        with_it.write_bytes(b"\x7fELF" + b"\0" * 64 + der + b"\0" * 64)
        without = pathlib.Path(tmp) / "without"
        without.write_bytes(b"\x7fELF" + b"\0" * 64 + der[:-8] + b"\0" * 64)
        ok = holds(with_it, der) and not holds(without, der)
    print(f"sizes self-test: the bench certificate detector {'works' if ok else 'IS BROKEN'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(self_test() if "--self-test" in sys.argv else main())
