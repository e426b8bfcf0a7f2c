"""`add server BACKEND/NAME ADDRESS[:PORT] [options]` of HAProxy's runtime API, read as a server
line (HAProxy 2.6 src/server.c `cli_parse_add_server`: `_srv_parse_init` and the server
keywords with SRV_PARSE_DYNAMIC; management guide §9.3 "add server").

The words go through the configuration's own server reader (config/haproxy/server.py), so
the options and their messages are the `server` line's; as HAProxy says, no `default-server`
applies, and HAProxy's answer is the reader's message without its "'server B/S' : " prefix.
pylvs connects to addresses only, so a name (which HAProxy accepts without resolving it,
leaving the server unusable) is refused.  The spec carries the line read (`ServerSpec.line`)
for the check planner, and `track` as written: the engine resolves it against the running
servers (engine/dynamic_servers.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from pylvs.config.errors import Location
from pylvs.config.haproxy.convert import server as server_spec
from pylvs.config.haproxy.model import Server, ServerOptions, Target
from pylvs.config.haproxy.server import read_server
from pylvs.config.keywords import Context
from pylvs.config.tree import Word
from pylvs.model.proxy_spec import ServerSpec

_CLI = Location("CLI", 1, 1)
_NOT_DYNAMIC = frozenset({"resolvers", "resolve-prefer", "resolve-net", "resolve-opts"})


def dynamic_server(backend: str, name: str, words: Sequence[str]) -> ServerSpec | str:
    """The server `add server` describes, or HAProxy's answer (with its newline)."""
    ctx = Context()
    args = tuple(Word(w, _CLI) for w in (name, *words))
    got = read_server(args, ctx, backend, Word("server", _CLI))
    errors = list(ctx.problems.errors)
    if got is None or errors:
        text = errors[0].message if errors else "invalid server line."
        return text.removeprefix(f"'server {backend}/{name}' : ") + "\n"
    _name, target, options, sid = got
    assert isinstance(target, Target)
    for w in words:  # run-time DNS keywords lack SRV_PARSE_DYNAMIC (src/server.c srv_kws)
        if w in _NOT_DYNAMIC:
            return f"'{w}' option is not accepted for dynamic server\n"
    if target.ip is None:
        return f"pylvs connects to IP addresses: '{target.host}' is not one.\n"
    values = {
        f.name: getattr(options, f.name)
        for f in dataclasses.fields(ServerOptions)
        if getattr(options, f.name) is not None
    }
    line = Server(loc=_CLI, name=name, target=target, id=sid or 0, **values)
    said = tuple(w.message for w in ctx.problems.warnings)
    return dataclasses.replace(server_spec(line), line=line, warnings=said)
