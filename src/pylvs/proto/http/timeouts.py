"""The HTTP timeouts of a frontend/backend pair, and which one governs a side at each moment.

HAProxy 2.6 (seconds here, None when unset; the values of `timeout <name>`):

* `http-request` bounds the time to receive a complete request head, counted from the
  connection's accept for the first request and from the first byte of each later one
  (src/mux_h1.c h1_set_idle_expiration: set once, not refreshed by data);
* `http-keep-alive` bounds the wait for the next request's first byte once a response has
  been sent; unset, `http-request` is used, and unset too, `client`;
* `client` is the client's inactivity timeout while a head is awaited (refreshed by every
  read; the earlier of it and the two above wins), and while HAProxy's output waits for the
  client to read;
* `server` bounds the wait for the server once a request is sent (refreshed by every read):
  a 504 if no response head came yet, else the response is cut; while it runs, a slow request
  body does not trip `client` (observed: a half-sent body with `timeout client 500ms` and
  `timeout server 1500ms` got the 504 at 1.5 s);
* `connect` bounds a connection attempt to a server;
* `tunnel` replaces both client and server once a 101 or a 2xx to CONNECT switched the
  connection (src/stream.c); unset, each direction keeps its own inactivity timeout, so an
  idle tunnel lasts the longer of `client` and `server`;
* `client-fin` / `server-fin` replace them for a side that has already closed its half.

A head not received in time gets a 408 (raw, then the connection is closed) when bytes of it
were received, or for the first request of a connection unless `option dontlognull` or
`option http-ignore-probes` says otherwise (h1_handle_req_tout); an idle kept-alive
connection is closed silently.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timeouts:
    """`timeout ...` values in seconds (None: unset), and the options that change 408s."""

    client: float | None = None
    server: float | None = None
    connect: float | None = None
    http_request: float | None = None
    http_keep_alive: float | None = None
    tunnel: float | None = None
    client_fin: float | None = None
    server_fin: float | None = None
    dontlognull: bool = False  # option dontlognull
    ignore_probes: bool = False  # option http-ignore-probes

    def __post_init__(self) -> None:
        for name in (
            "client",
            "server",
            "connect",
            "http_request",
            "http_keep_alive",
            "tunnel",
            "client_fin",
            "server_fin",
        ):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"timeout {name.replace('_', '-')} must be positive")

    @property
    def keep_alive_wait(self) -> float | None:
        """How long an idle kept-alive connection waits for the next request."""
        return self.http_keep_alive if self.http_keep_alive is not None else self.http_request

    @property
    def idle_tunnel(self) -> float | None:
        """How long a tunnel may stay idle."""
        if self.tunnel is not None:
            return self.tunnel
        if self.client is None or self.server is None:
            return None  # one direction never expires: the tunnel stays
        return max(self.client, self.server)


def after(now: float, delay: float | None) -> float | None:
    """A deadline `delay` seconds after `now` (None stays None)."""
    return None if delay is None else now + delay


def earliest(*deadlines: float | None) -> float | None:
    """The first of the deadlines that are set."""
    set_ = [d for d in deadlines if d is not None]
    return min(set_) if set_ else None
