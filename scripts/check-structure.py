#!/usr/bin/env python3
"""`make structure`: the house rules of the core crate, checked (reviews/structure.md).

- no Rust source file in shared/src or admin/src has more than 250 non-test lines (code lines before
  `#[cfg(test)]`, comments and blank lines not counted);
- no function in shared/src, functions/ or admin/ is longer than 60 lines;
- imports run one way: nothing under delivery/ or connectif/ uses `crate::webhook`, and
  connectif/ does not use `crate::delivery`.
Exits non-zero, naming each break.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_FILE, MAX_FN = 250, 60
FORBIDDEN = {
    "shared/src/delivery": ["crate::webhook"],
    "shared/src/connectif": ["crate::webhook", "crate::delivery"],
}
FN = re.compile(r"^(\s*)(pub(\([^)]*\))? )?(const )?(async )?fn (\w+)")


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


def main():
    problems = []
    sources = sorted(ROOT.glob("shared/src/**/*.rs")) + sorted(ROOT.glob("functions/*/src/*.rs")) + sorted(ROOT.glob("admin/src/**/*.rs"))
    for path in sources:
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text().splitlines()
        cut = non_test(lines)
        code = sum(1 for l in lines[:cut] if l.strip() and not l.strip().startswith("//"))
        if rel.startswith(("shared/src/", "admin/src/")) and code > MAX_FILE:
            problems.append(f"{rel}: {code} non-test lines (at most {MAX_FILE})")
        for name, length in long_functions(lines, cut):
            problems.append(f"{rel}: fn {name} is {length} lines (at most {MAX_FN})")
        for folder, banned in FORBIDDEN.items():
            if rel.startswith(folder + "/"):
                for n, line in enumerate(lines[:cut], 1):
                    for b in banned:
                        if b in line:
                            problems.append(f"{rel}:{n}: uses {b} (imports run one way)")
    for p in problems:
        print(p)
    print(f"structure: {len(sources)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
