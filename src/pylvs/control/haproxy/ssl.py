"""The runtime API's TLS commands: `new|set|commit|abort|del|show ssl ca-file` and
`... ssl cert` (HAProxy 2.6 src/ssl_ckch.c cli_parse_*_cafile, cli_parse_*_cert), over the
runtime's store (proto/tls_store.py; a committed certificate is used by the handshakes that
follow).  Changing a file takes the admin level, showing one the operator level (HAProxy
answers an operator's `show` refusal with "Can't allocate memory!", as its code does).
"""

from __future__ import annotations

from pylvs.control.haproxy.context import LOG_NOTICE, Context, Reply, err, msg
from pylvs.proto.stick import Level
from pylvs.proto.tls_store import CertCommands


def _word(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def _answer(got: tuple[str, bool]) -> Reply:
    text, error = got
    return err(text) if error else msg(text, LOG_NOTICE)


def ca_file(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`VERB ssl ca-file NAME` for VERB in new, set, commit, abort, del, show."""
    verb, name = words[0], _word(words, 3)
    store = ctx.runtime.tls_store()
    if verb == "show":
        if not ctx.state.has_level(Level.OPERATOR):
            return err("Can't allocate memory!\n")
        text, error = store.show(name)
        return err(text) if error else Reply(text)
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    if verb == "new":
        return _answer(store.new(name))
    if verb == "set":
        return _answer(store.set(name, payload))
    if verb == "commit":
        got = store.commit(name)
        return Reply(got[0]) if not got[1] else err(got[0])
    if verb == "abort":
        return _answer(store.abort(name))
    return _answer(store.delete(name))


def show_cert(ctx: Context, words: list[str], payload: str | None) -> Reply:
    if not ctx.state.has_level(Level.OPERATOR):
        return err("Can't allocate memory!\n")
    text, error = ctx.runtime.tls_store().show_cert(_word(words, 3))
    return err(text) if error else Reply(text)


def cert(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`VERB ssl cert NAME` for VERB in new, set, commit, abort, del."""
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    verb, name = words[0], _word(words, 3)
    commands = CertCommands(ctx.runtime.tls_store())
    if verb == "new":
        return _answer(commands.new(name))
    if verb == "set":
        return _answer(commands.set(name, payload))
    if verb == "commit":
        got = commands.commit(name)
        return Reply(got[0]) if not got[1] else err(got[0])
    if verb == "abort":
        return _answer(commands.abort(name))
    return _answer(commands.delete(name))
