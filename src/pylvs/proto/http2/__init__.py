"""HTTP/2 as HAProxy 2.6 maps it onto its HTTP messages, sans I/O (RFC 9113, RFC 8441).

The frames themselves are the `h2` library's (dataplane/haproxy/http2 drives it); this
package holds what HAProxy decides about their content:
    request.py   a request's header list -> RequestHead (src/h2.c h2_make_htx_request)
    stream.py    StreamMachine: one frontend stream between the connection and the server side
    upstream.py  H2ServerMachine: `server ... proto h2` (h2s_bck_make_req_headers,
                 h2_make_htx_response), the HTTP/1 server machine's part in frames
    library.py   the `h2` library with HAProxy's choices (checks, Content-Length, HPACK)
"""
