#!/usr/bin/env python3
"""Set the published repository, once, everywhere a link names it.

    python3 scripts/set-repository.py https://github.com/<owner>/<repo>

The one place is the workspace's `repository` in Cargo.toml (the console's `--version`
and its release archives name it); this also writes it where YAML cannot read Cargo.toml:
template.yaml's application metadata (home page, source at this version) and the
`Repository` mapping of the alarm e-mails' docs links. `make test` fails while they differ;
`make release` refuses to build a release while it is still the placeholder.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def set_repository(root: Path, url: str) -> None:
    cargo = root / "Cargo.toml"
    text = cargo.read_text()
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    text, n = re.subn(r'^repository = "[^"]*"', f'repository = "{url}"', text, count=1, flags=re.M)
    assert n == 1, "Cargo.toml has no workspace `repository`"
    cargo.write_text(text)
    template = root / "template.yaml"
    text = template.read_text()
    for pattern, value in [
        (r"^(    HomePageUrl: ).*$", url),
        (r"^(    SourceCodeUrl: ).*$", f"{url}/tree/v{version}"),
        (r"^(      Url: ).*$", f"{url}/blob/v{version}/docs"),
    ]:
        text, n = re.subn(pattern, lambda m: m.group(1) + value, text, count=1, flags=re.M)
        assert n == 1, f"template.yaml: {pattern}"
    template.write_text(text)


def self_test() -> None:
    """On copies: every place is set, and the template's links follow."""
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("Cargo.toml", "template.yaml"):
            shutil.copy(ROOT / name, Path(tmp) / name)
        set_repository(Path(tmp), "https://github.com/acme/bridge")
        cargo = (Path(tmp) / "Cargo.toml").read_text()
        template = (Path(tmp) / "template.yaml").read_text()
        assert 'repository = "https://github.com/acme/bridge"' in cargo
        for line in ("HomePageUrl: https://github.com/acme/bridge\n",
                     "SourceCodeUrl: https://github.com/acme/bridge/tree/v",
                     "Url: https://github.com/acme/bridge/blob/v"):
            assert line in template, line
        assert "github.com/example/" not in template, "a link left behind"
    print("set-repository: every place set (self-test)")


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(sys.argv) != 2 or not re.fullmatch(r"https://[^\s/]+/[^\s/]+/[^\s/]+", sys.argv[1]):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/")
    set_repository(ROOT, url)
    print(f"repository: {url} (Cargo.toml, template.yaml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
