"""`pylvs genhash`: keepalived's genhash, the MD5 digest of a web page for HTTP_GET/SSL_GET.

Options as keepalived's (check/check_genhash.c): -s server, -p port, -u url, -S (SSL),
-I (SNI from the virtualhost), -V virtualhost, -P 1.0|1.0c|1.1, -t timeout, -m fwmark,
-v (also print the request, the response header and body).  Prints the lower-case hex digest;
exit 1 when the page cannot be fetched.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from typing import Any

from pylvs.health.genhash import GenhashRequest, genhash
from pylvs.model.checks import HttpProtocol

PROTOCOLS = {
    "1.0": HttpProtocol.HTTP_1_0,
    "1.0c": HttpProtocol.HTTP_1_0C,
    "1.1": HttpProtocol.HTTP_1_1,
}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "genhash",
        help="MD5 digest of a web page (keepalived genhash)",
        description="Fetch a URL as HTTP_GET/SSL_GET does and print the MD5 digest of the body.",
    )
    p.add_argument("-s", "--server", required=True, help="server address")
    p.add_argument("-p", "--port", type=int, default=None, help="port (default 80, 443 with -S)")
    p.add_argument("-u", "--url", required=True, help="URL path, e.g. /index.html")
    p.add_argument("-S", "--use-ssl", action="store_true", help="use SSL")
    p.add_argument("-I", "--use-sni", action="store_true", help="send SNI (the virtualhost)")
    p.add_argument(
        "-V", "--use-virtualhost", dest="virtualhost", default=None, metavar="HOST",
        help="Host header to send (default: the server address)",
    )  # fmt: skip
    p.add_argument(
        "-P", "--protocol", choices=sorted(PROTOCOLS), default="1.0",
        help="HTTP version of the request, as HTTP_GET's http_protocol (default %(default)s)",
    )  # fmt: skip
    p.add_argument("-t", "--timeout", type=float, default=5.0, help="timeout in seconds")
    p.add_argument("-m", "--fwmark", type=int, default=0, help="firewall mark (SO_MARK)")
    p.add_argument(
        "-v", "--verbose", action="store_true",
        help="also print the request, the response header and the body",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    port = args.port if args.port is not None else (443 if args.use_ssl else 80)
    req = GenhashRequest(
        server=args.server,
        port=port,
        url=args.url,
        use_ssl=args.use_ssl,
        use_sni=args.use_sni,
        virtualhost=args.virtualhost,
        protocol=PROTOCOLS[args.protocol],
        timeout=args.timeout,
        fwmark=args.fwmark,
    )
    try:
        request, resp = asyncio.run(genhash(req))
    except ssl.SSLError as exc:
        print(f"SSL handshake/communication error: {exc.reason}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError) as exc:
        print(f"Cannot connect to {args.server}:{port}: {exc or 'timeout'}", file=sys.stderr)
        return 1
    if resp is None:
        print("no data received from remote webserver", file=sys.stderr)
        return 1
    if args.verbose:
        print(request.decode(errors="replace"), end="")
        print(resp.header.decode(errors="replace"))
        print()
        print(resp.body.decode(errors="replace"))
        print(f"MD5SUM = {resp.digest}")
        return 0
    print(resp.digest)
    return 0
