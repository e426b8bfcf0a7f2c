"""Record HAProxy's hash functions on chosen inputs, to check pylvs's against.

Run by hand (needs the real `haproxy`; no root):

    python tests/data/haproxy/lb/capture_hashes.py [-o tests/data/haproxy/lb/hash-vectors.json]

HAProxy exposes the functions its `hash-type` uses as sample converters (`sdbm`, `djb2`, `wt6`,
`crc32`; with argument 1, the `avalanche` modifier, full_hash, is applied to the result).  A
one-thread `mode http` frontend answers each request with the eight values for the bytes of
its `s` query parameter (url-decoded, so any byte can be sent); the inputs are fixed strings,
every single byte, and pseudo-random byte strings of many lengths.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import urllib.parse
from pathlib import Path

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.data.haproxy.oracle import free_port, running, version

HERE = Path(__file__).resolve().parent
FUNCTIONS = ("sdbm", "djb2", "wt6", "crc32")


def inputs() -> list[bytes]:
    rng = random.Random(2604)
    fixed = [b"", b"a", b"abc", b"123456789", b"/img/logo.png", b"www.example.com"]
    singles = [bytes([i]) for i in range(256)]
    randoms = [rng.randbytes(n) for n in (*range(2, 40), 64, 127, 128, 255, 1000)]
    return fixed + singles + randoms


def config(port: int) -> str:
    fields = " ".join(
        f"%[url_param(s),url_dec,{fn}{aval}]" for aval in ("", "(1)") for fn in FUNCTIONS
    )
    return (
        "global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 5s\n"
        "    timeout client 5s\n    timeout server 5s\nfrontend f\n"
        f"    bind 127.0.0.1:{port}\n"
        f'    http-request return status 200 content-type text/plain lf-string "{fields}"\n'
    )


def ask(port: int, data: bytes) -> list[int]:
    query = urllib.parse.quote_from_bytes(data, safe="")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET /?s={query} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    body = reply.partition(b"\r\n\r\n")[2]
    return [int(v) for v in body.split()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(HERE / "hash-vectors.json"))
    args = ap.parse_args()
    port = free_port()
    vectors = []
    with running(config(port), port=port):
        for data in inputs():
            values = ask(port, data)
            plain, aval = values[:4], values[4:]
            vectors.append(
                {
                    "input": data.hex(),
                    **dict(zip(FUNCTIONS, plain, strict=True)),
                    **{f"{fn}_avalanche": v for fn, v in zip(FUNCTIONS, aval, strict=True)},
                }
            )
    doc = {"haproxy": version(), "vectors": vectors}
    Path(args.output).write_text(json.dumps(doc, indent=0) + "\n")


if __name__ == "__main__":
    main()
