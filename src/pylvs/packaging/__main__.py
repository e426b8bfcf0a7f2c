"""`python3 -m pylvs.packaging install|man|completion|unit`: see the package docstring."""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import resources
from pathlib import Path

from pylvs.packaging import completion, manpages


def default_bindir() -> str:
    """Where the `pylvs` command of this installation is (the unit's ExecStart)."""
    found = shutil.which("pylvs")
    if found:
        return str(Path(found).parent)
    return str(Path(sys.prefix) / "bin")


def unit(bindir: str) -> str:
    text = resources.files("pylvs").joinpath("data/pylvs.service").read_text()
    return text.replace("@BINDIR@", bindir.rstrip("/") or "/")


def write(path: Path, text: str, out: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    out.append(str(path))


def install(prefix: str, systemd_dir: str, bindir: str) -> list[str]:
    """Every file, in the usual places under `prefix` (the unit in `systemd_dir`)."""
    root = Path(prefix)
    written: list[str] = []
    for name, page in manpages.all_pages().items():
        write(root / "share" / "man" / f"man{manpages.SECTION}" / name, page, written)
    write(root / "share" / "bash-completion" / "completions" / "pylvs", completion.bash(), written)
    write(root / "share" / "zsh" / "site-functions" / "_pylvs", completion.zsh(), written)
    write(Path(systemd_dir) / "pylvs.service", unit(bindir), written)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m pylvs.packaging", description=__doc__)
    sub = p.add_subparsers(dest="what", required=True)
    i = sub.add_parser("install", help="write the man pages, completion and systemd unit")
    i.add_argument("--prefix", default="/usr/local", help="(default %(default)s)")
    i.add_argument("--systemd-dir", default="/etc/systemd/system", help="(default %(default)s)")
    i.add_argument("--bindir", default=None, help="where pylvs is (default: found on PATH)")
    m = sub.add_parser("man", help="write the man pages into DIR")
    m.add_argument("dir")
    c = sub.add_parser("completion", help="print the completion script")
    c.add_argument("shell", choices=["bash", "zsh"])
    u = sub.add_parser("unit", help="print pylvs.service")
    u.add_argument("--bindir", default=None)
    args = p.parse_args(argv)
    bindir = getattr(args, "bindir", None) or default_bindir()
    if args.what == "install":
        try:
            written = install(args.prefix, args.systemd_dir, bindir)
        except OSError as e:
            print(f"pylvs.packaging: {e.filename}: {e.strerror}", file=sys.stderr)
            return 1
        print("\n".join(written))
        print("then: systemctl daemon-reload && systemctl enable --now pylvs", file=sys.stderr)
    elif args.what == "man":
        written = []
        try:
            for name, page in manpages.all_pages().items():
                write(Path(args.dir) / name, page, written)
        except OSError as e:
            print(f"pylvs.packaging: {e.filename}: {e.strerror}", file=sys.stderr)
            return 1
    elif args.what == "completion":
        sys.stdout.write(completion.bash() if args.shell == "bash" else completion.zsh())
    else:
        sys.stdout.write(unit(bindir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
