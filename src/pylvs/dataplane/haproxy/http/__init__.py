"""`mode http` proxying on the HAProxy-mode runtime: proto/http/conn's machines on sockets.

    stream.py       HttpSession: one client connection, its requests one after another
    upstream.py     a request's backend, server, queue, connection (retries, redispatch)
    server_side.py  ServerConn (one server connection) and a backend's pooled connections
    endpoint.py     one socket on the proxy's poller (reads, write queue, shutdowns)
    exchange.py     the record of one request/response (timers, status, bytes, termination)
    state.py        what a runtime's HTTP streams share: settings, pools, `show errors`,
                    and the hooks (on_request, on_response, on_end) other parts plug in
    settings.py     a frontend's / backend's spec as the machines' Front / Back

The runtime starts an `HttpSession` for each connection a `mode http` frontend accepts
(frontend.py); docs/http.md describes the driver and its seams.
"""
