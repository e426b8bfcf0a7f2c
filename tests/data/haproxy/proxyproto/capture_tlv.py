"""Capture the PROXY v2 header haproxy 2.6 sends a server with `proxy-v2-options`
(crc32c, authority, unique-id, ssl) for a client whose own PROXY v2 header carried an
authority, for tests/unit/proto/test_proxyproto.py and the mode tcp integration test:
run from the repository root (`python -m tests.data.haproxy.proxyproto.capture_tlv`) with
`haproxy` on PATH; writes haproxy-2.6.12-tlv.json beside this file."""

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.data.haproxy.proxyproto.capture import srv

CFG = """global
  nbthread 1
defaults
  timeout connect 2s
  timeout client 5s
  timeout server 5s
listen tlv
  mode tcp
  bind 127.0.0.1:17105 accept-proxy
  unique-id-format %{+X}o%ci:%cp-%[fc_pp_authority]
  server s 127.0.0.1:17205 send-proxy-v2 proxy-v2-options crc32c,authority,unique-id,ssl
listen tlvhttp
  mode http
  bind 127.0.0.1:17106 accept-proxy
  unique-id-format %{+X}o%ci:%cp-%[fc_pp_authority]
  server s 127.0.0.1:17206 send-proxy-v2 proxy-v2-options unique-id,authority
"""
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
# the client's header: TCP4 10.0.0.1:1000 -> 10.0.0.2:2000, AUTHORITY "example.com"
CLIENT = (
    SIG
    + b"\x21\x11\x00\x1a"
    + bytes([10, 0, 0, 1, 10, 0, 0, 2])
    + (1000).to_bytes(2, "big")
    + (2000).to_bytes(2, "big")
    + b"\x02\x00\x0bexample.com"
)


def main() -> None:
    here = Path(__file__).parent
    (here / "h.cfg").write_text(CFG)
    p = subprocess.Popen(["haproxy", "-db", "-f", str(here / "h.cfg")])
    time.sleep(1)
    res: dict[str, object] = {"client_header_hex": CLIENT.hex()}
    for name, lp, sp, payload, answer in [
        ("tcp", 17105, 17205, b"hello", b""),
        ("http", 17106, 17206, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", ANSWER),
    ]:
        out: list[bytes] = []
        t = threading.Thread(target=srv, args=(sp, out, answer))
        t.start()
        time.sleep(0.1)
        c = socket.create_connection(("127.0.0.1", lp))
        c.sendall(CLIENT + payload)
        time.sleep(0.3)
        c.close()
        t.join()
        res[name] = {"payload_hex": payload.hex(), "bytes_hex": out[0].hex()}
    p.terminate()
    p.wait()
    (here / "haproxy-2.6.12-tlv.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
