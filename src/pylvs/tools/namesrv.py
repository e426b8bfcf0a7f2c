"""A tiny HTTP/1.1 server that answers every request with its own name.

It plays the seeds' web real servers (rs1, rs2, ...) in `pylvs demo` and `pylvs lab`, where a
learner sees the distribution by reading the names.  Keep-alive is honoured so load tools can
reuse connections; `Connection: close` closes after the answer.  Run it alone with
`python -m pylvs.tools.namesrv NAME --port 80 [--bind ADDR]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

MAX_HEAD = 16384


class NameServer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.body = f"{name}\n".encode()
        self.requests = 0
        self._server: asyncio.Server | None = None

    def response(self, keep_alive: bool) -> bytes:
        conn = b"keep-alive" if keep_alive else b"close"
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(self.body)).encode()
            + b"\r\nConnection: "
            + conn
            + b"\r\n\r\n"
            + self.body
        )

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        addr = self._server.sockets[0].getsockname()
        return str(addr[0]), int(addr[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                lines = head.decode("latin-1").split("\r\n")
                version = lines[0].rsplit(" ", 1)[-1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
                }
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                conn = headers.get("connection", "").lower()
                keep = conn == "keep-alive" or (version == "HTTP/1.1" and conn != "close")
                writer.write(self.response(keep))
                await writer.drain()
                if not keep:
                    break
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            ValueError,
        ):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def _main(name: str, host: str, port: int) -> None:
    srv = NameServer(name)
    await srv.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await srv.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("name")
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--port", type=int, default=80)
    a = p.parse_args()
    asyncio.run(_main(a.name, a.bind, a.port))


if __name__ == "__main__":
    main()
