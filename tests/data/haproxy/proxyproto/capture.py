"""Capture what haproxy 2.6 sends a `send-proxy` / `send-proxy-v2` server (PROXY protocol v1/v2
headers), for tests/unit/proto/test_proxyproto.py: run from this directory, with `haproxy` on
PATH; writes haproxy-2.6.12.json (per listener: the client's port, the bytes the server got).
capture_tlv.py uses its server."""

import json
import socket
import subprocess
import threading
import time


def srv(port: int, out: list[bytes], answer: bytes = b"") -> None:
    """Accept one connection on `port` and keep what it sends (sending `answer` after each
    HTTP head)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(5)
    c, _ = s.accept()
    c.settimeout(2)
    data = b""
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            data += d
            if answer and data.endswith(b"\r\n\r\n"):
                c.sendall(answer)
    except Exception:
        pass
    out.append(data)
    c.close()
    s.close()


cfg = """global
  nbthread 1
defaults
  mode tcp
  timeout connect 2s
  timeout client 5s
  timeout server 5s
listen v1
  bind 127.0.0.1:17101
  server s 127.0.0.1:17201 send-proxy
listen v2
  bind 127.0.0.1:17102
  server s 127.0.0.1:17202 send-proxy-v2
listen v2six
  bind ::1:17103
  server s 127.0.0.1:17203 send-proxy-v2
listen v1six
  bind ::1:17104
  server s 127.0.0.1:17204 send-proxy
"""


def main() -> None:
    open("h.cfg", "w").write(cfg)
    p = subprocess.Popen(["haproxy", "-db", "-f", "h.cfg"])
    time.sleep(1)
    res = {}
    for name, lp, sp, fam, host in [
        ("v1", 17101, 17201, socket.AF_INET, "127.0.0.1"),
        ("v2", 17102, 17202, socket.AF_INET, "127.0.0.1"),
        ("v2six", 17103, 17203, socket.AF_INET6, "::1"),
        ("v1six", 17104, 17204, socket.AF_INET6, "::1"),
    ]:
        out: list[bytes] = []
        t = threading.Thread(target=srv, args=(sp, out))
        t.start()
        time.sleep(0.1)
        c = socket.socket(fam)
        c.bind((host, 0))
        c.connect((host, lp))
        cport = c.getsockname()[1]
        c.sendall(b"hello")
        time.sleep(0.3)
        c.close()
        t.join()
        res[name] = {"client_port": cport, "bytes_hex": out[0].hex()}
    p.terminate()
    p.wait()
    json.dump(res, open("haproxy-2.6.12.json", "w"), indent=1)


if __name__ == "__main__":
    main()
