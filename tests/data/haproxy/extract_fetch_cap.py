"""Regenerate src/pylvs/config/haproxy/fetch_cap.py from HAProxy's src/sample.c.

    python tests/data/haproxy/extract_fetch_cap.py /path/to/haproxy-2.6/src/sample.c | \
        ruff format - > src/pylvs/config/haproxy/fetch_cap.py

Reads `fetch_cap[]`: for each sample source (SMP_SRC_*), the places (SMP_VAL_*) where a fetch
reading it may be used.  Written sorted, so a re-run on the same source changes nothing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TABLE = re.compile(r"const unsigned int fetch_cap\[SMP_SRC_ENTRIES\] = \{(.*?)\n\};", re.S)
ENTRY = re.compile(r"\[SMP_SRC_(\w+)\]\s*=\s*\(([^)]*)\)", re.S)
VAL = re.compile(r"SMP_VAL_(\w+)")

HEAD = '''"""Where each sample source may be read (src/sample.c fetch_cap[], HAProxy 2.6), generated
by tests/data/haproxy/extract_fetch_cap.py: a fetch whose sources (config/haproxy/fetches.py
`use`) are all missing from a place cannot be used there ("sample fetch <...> may not be
reliably used here because it needs '...' which is not available here")."""

CAP: dict[str, frozenset[str]] = {
'''


def main() -> None:
    text = Path(sys.argv[1]).read_text()
    table = TABLE.search(text)
    assert table is not None
    out = [HEAD]
    for src, vals in sorted(ENTRY.findall(table.group(1))):
        places = sorted(v for v in VAL.findall(vals) if not v.startswith("_"))
        out.append(f"    {src!r}: frozenset({tuple(places)!r}),\n")
    out.append("}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
