#!/usr/bin/env python3
"""`make structure`: the house rules of the code, checked.

- no function in shared/src, functions/ or admin/ is longer than 60 lines (file sizes are only
  reported: the largest files, as advice);
- AWS in one room: in the core crate only `aws` (the adapters) and `config` (the wiring) use the
  AWS SDK's crates (`aws_sdk_*`, `aws_config`, `aws_types`, `aws_smithy_*`, `aws_sigv4`,
  `aws_credential_types`);
- floors: every module (room) of the core crate and of the console stands on a floor, listed in
  the crate's own docs (`shared/src/lib.rs`, `admin/src/main.rs`: lines `//! - floor N: ...`
  naming the rooms in backticks); a room imports (`crate::X`) only rooms on lower floors.
  That forbids arrows back up and circles, and a room missing from the list is a problem too.
- tests that need moto_server are marked: outside a `moto` module of a test binary, no test
  file starts one (`make check` skips `moto::`).
Exits non-zero, naming each break. `--self-test` plants breaks in a copy and checks they are found.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "--root" else pathlib.Path(__file__).resolve().parent.parent
MAX_FN = 60
# The files listed by size in the report.
LARGEST = 5
AWS_CRATE = re.compile(r"\baws_(sdk_\w+|config|types|smithy_\w+|sigv4|credential_types)::")
AWS_ROOMS = ("aws", "config")
FN = re.compile(r"^(\s*)(pub(\([^)]*\))? )?(const )?(async )?fn (\w+)")
FLOOR = re.compile(r"^//! - floor (\d+): (.*)$")
CRATES = {"shared/src": "lib.rs", "admin/src": "main.rs"}
MOTO_USES = ("testkit::moto(", "testkit::moto_alone(", "Durable::start(", "Moto::start(")


def non_test(lines):
    return next((i for i, l in enumerate(lines) if l.strip().startswith("#[cfg(test)]")), len(lines))


def long_functions(lines, cut):
    i = 0
    while i < cut:
        m = FN.match(lines[i])
        if m and not lines[i].rstrip().endswith(";"):
            indent, j = m.group(1), i
            while j < cut and lines[j].rstrip() != indent + "}":
                j += 1
            if j - i + 1 > MAX_FN:
                yield m.group(6), j - i + 1
            i = j
        i += 1


def floors(root_file):
    """The floor list of a crate's root file: {room: floor}."""
    table = {}
    for line in root_file.read_text().splitlines():
        m = FLOOR.match(line)
        if m:
            for name in re.findall(r"`\[?`?(\w+)", m.group(2)):
                table[name] = int(m.group(1))
    return table


def room(crate_dir, path, root_name):
    rel = path.relative_to(crate_dir)
    if rel.as_posix() == root_name:
        return "crate"
    return rel.parts[0].removesuffix(".rs")


def imported_rooms(text):
    """Every room named after `crate::`, including inside `crate::{a, b::c}`."""
    found = set(re.findall(r"\bcrate::(\w+)", text))
    for m in re.finditer(r"\bcrate::\{", text):
        depth, i, start, parts = 1, m.end(), m.end(), []
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            elif text[i] == "," and depth == 1:
                parts.append(text[start:i])
                start = i + 1
            i += 1
        parts.append(text[start:i - 1])
        found.update(p.strip().split("::")[0] for p in parts if p.strip())
    found.discard("self")
    return found


def check_aws_room(problems):
    crate_dir = ROOT / "shared/src"
    for path in sorted(crate_dir.glob("**/*.rs")):
        here = room(crate_dir, path, "lib.rs")
        if here in AWS_ROOMS:
            continue
        lines = path.read_text().splitlines()
        code = "\n".join(l for l in lines[:non_test(lines)] if not l.strip().startswith("//"))
        found = AWS_CRATE.search(code)
        if found:
            rel = path.relative_to(ROOT).as_posix()
            problems.append(f"{rel}: `{here}` uses `{found.group(0)}`: AWS is spoken in the `aws` room only (and wired in `config`)")
    return problems


def check_floors(problems):
    for crate, root_name in CRATES.items():
        crate_dir = ROOT / crate
        table = floors(crate_dir / root_name)
        table.setdefault("crate", 0)
        for path in sorted(crate_dir.glob("**/*.rs")):
            rel = path.relative_to(ROOT).as_posix()
            lines = path.read_text().splitlines()
            here = room(crate_dir, path, root_name)
            if here not in table:
                problems.append(f"{rel}: room `{here}` stands on no floor of {crate}/{root_name}")
                continue
            code = "\n".join(l for l in lines[:non_test(lines)] if not l.strip().startswith("//"))
            for other in sorted(imported_rooms(code)):
                if other == here or other not in table:
                    continue
                if here != "crate" and table[other] >= table[here]:
                    problems.append(
                        f"{rel}: `{here}` (floor {table[here]}) imports `crate::{other}` "
                        f"(floor {table[other]}): imports run down only")
    return problems


# The test binaries whose `moto::` tests `make test` runs (the Makefile's `unit` names them).
MOTO_BINARIES = ("shared/tests/bridge/", "admin/tests/console/")


def check_moto_marks(problems):
    for path in sorted(ROOT.glob("*/tests/**/*.rs")) + sorted(ROOT.glob("functions/*/tests/**/*.rs")):
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(MOTO_BINARIES):
            if any(use in path.read_text() for use in MOTO_USES):
                problems.append(f"{rel}: uses moto_server in a test binary `make test` does not run moto tests of (see the Makefile's unit)")
            continue
        if "/moto/" in rel or path.name in ("helpers.rs", "durable_helpers.rs", "common.rs", "twin.rs"):
            continue
        text = path.read_text()
        marked = text.find("\nmod moto {")
        for use in MOTO_USES:
            at = text.find(use)
            if at >= 0 and (marked < 0 or at < marked) and not text[max(0, at - 5):at].endswith("Local"):
                problems.append(f"{rel}: starts moto_server outside a `moto` module (`make check` would run it)")
                break
    return problems


def main():
    problems, sizes = [], []
    sources = sorted(ROOT.glob("shared/src/**/*.rs")) + sorted(ROOT.glob("functions/*/src/*.rs")) + sorted(ROOT.glob("admin/src/**/*.rs"))
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text().splitlines()
        cut = non_test(lines)
        sizes.append((sum(1 for l in lines[:cut] if l.strip() and not l.strip().startswith("//")), rel))
        for name, length in long_functions(lines, cut):
            problems.append(f"{rel}: fn {name} is {length} lines (at most {MAX_FN})")
    largest = ", ".join(f"{rel} {n}" for n, rel in sorted(sizes, reverse=True)[:LARGEST])
    print(f"structure: the largest files (code lines before the tests): {largest}")
    check_floors(problems)
    check_aws_room(problems)
    check_moto_marks(problems)
    for p in problems:
        print(p)
    print(f"structure: {len(sources)} files checked, {len(problems)} problems")
    return 1 if problems else 0


def self_test():
    """Plant an arrow back up, a room on no floor, the SDK outside `aws` and an unmarked moto test in a copy: each is found."""
    plants = [
        ("shared/src/channel/id.rs", "use crate::webhook::Deps;\n", "`channel` (floor"),
        ("shared/src/mapping.rs", "use crate::{customer::Email, delivery::Envelope};\n", "imports `crate::delivery`"),
        ("admin/src/stack.rs", "use crate::check::check;\n", "`stack` (floor"),
        ("shared/src/attic.rs", "//! a new room\n", "room `attic` stands on no floor"),
        ("shared/src/delivery/deliver.rs", "fn f(_: aws_sdk_sqs::Client) {}\n", "AWS is spoken in the `aws` room only"),
        ("shared/tests/bridge/in_process.rs", "async fn t() { let _ = testkit::moto().await; }\n", "outside a `moto` module"),
        ("functions/shipment-webhook/tests/runtime.rs", "mod moto { async fn t() { let _ = testkit::moto().await; } }\n", "does not run moto tests of"),
    ]
    for target, line, expected in plants:
        with tempfile.TemporaryDirectory() as tmp:
            copy = pathlib.Path(tmp)
            for part in ("shared/src", "admin/src", "functions", "shared/tests", "admin/tests"):
                shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("target"))
            planted = copy / target
            planted.write_text(line + (planted.read_text() if planted.exists() else ""))
            run = subprocess.run([sys.executable, __file__, "--root", str(copy)], capture_output=True, text=True)
            assert run.returncode != 0 and expected in run.stdout, f"{target}: {line!r} not caught:\n{run.stdout}"
    print(f"structure self-test: {len(plants)} planted breaks, each caught")
    return 0


if __name__ == "__main__":
    sys.exit(self_test() if sys.argv[1:] == ["--self-test"] else main())
