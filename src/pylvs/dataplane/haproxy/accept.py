"""An accepted client connection until its stream starts: `tcp-request connection` rules,
the PROXY header, `tcp-request session` rules (src/session.c session_accept_fd and
conn_complete_session, src/tcp_rules.c tcp_exec_l4_rules / tcp_exec_l5_rules; HAProxy 2.6).

Order, as HAProxy's: the connection rules run right after accept on the socket's own
addresses (a `reject` closes at once with a RST, SO_LINGER 0, and counts `denied_conn`);
then the PROXY header is read when the bind says `accept-proxy` or a rule said `expect-proxy
layer4` (its addresses are the session's from then on); then the session rules (a `reject`
closes and counts `denied_sess`); a session that passes counts in the `sess_cnt`/`sess_rate`
of the counters it tracks (session_count_new) and its stream starts
(frontend.FrontendListener.open_stream).  `silent-drop` closes without telling the client
(TCP_REPAIR, else a RST with a TTL of 1, tcp_exec_action_silent_drop).

The rules' driver-side commands are carried out here on the client's socket: `set-mark`
(SO_MARK), `set-tos` (IP_TOS / IPV6_TCLASS), `expect-proxy`.  `set-src`/`set-dst` have
already changed the session's addresses.  `set-nice` and `set-log-level` only matter to a
scheduler with priorities and to the logs: the stream keeps them (stream.log_level).
"""

from __future__ import annotations

import _socket
import contextlib
import socket
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.sockets import close_with_reset
from pylvs.model.proxy_spec import ConnFacts
from pylvs.model.service import Address
from pylvs.proto.rules import commands as cmd
from pylvs.proto.rules import counters, tcp_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, ProxyRules
from pylvs.proto.sample.stream import Session, Stream

from .rules import session_for

if TYPE_CHECKING:
    from .frontend import FrontendListener

TCP_REPAIR = getattr(socket, "TCP_REPAIR", 19)  # linux/tcp.h


def new_session(
    listener: FrontendListener, src: Address, src_port: int, dst: Address, dst_port: int
) -> Session:
    facts = ConnFacts(src, src_port, dst, dst_port)
    return session_for(listener.frontend, facts, listener.ctx.clock(), listener.bind.name)


def run_l4(
    listener: FrontendListener, client: _socket.socket, sess: Session, rules: ProxyRules
) -> tuple[bool, bool]:
    """The connection rules: (accepted, PROXY header expected).  A rejected connection is
    closed and counted here."""
    clock = listener.ctx.clock
    txn = Txn(Stream(sess, now=clock()))
    verdict = tcp_flow.connection(txn, rules)
    expect = apply_commands(client, txn.commands)
    if isinstance(verdict, Drop):
        listener.frontend.denied += 1
        counters.stop_session(sess, clock())
        reject(client, silent=verdict.silent)
        listener.dropped()
        return False, False
    return True, expect


def run_l5(listener: FrontendListener, client: _socket.socket, sess: Session) -> bool:
    """The session rules; False: rejected (closed and counted)."""
    rules = listener.frontend.rules
    clock = listener.ctx.clock
    if rules is not None and rules.tcp_session:
        txn = Txn(Stream(sess, now=clock()))
        verdict = tcp_flow.session(txn, rules)
        apply_commands(client, txn.commands)
        if isinstance(verdict, Drop):
            listener.frontend.denied_sess += 1
            counters.stop_session(sess, clock())
            # session.c conn_complete_session: a session rule's reject closes the accepted
            # connection in order (a FIN); only the connection rules close with no linger.
            reject(client, silent=verdict.silent, reset=False)
            listener.dropped()
            return False
    counters.count_session(sess, clock())
    return True


def apply_commands(client: _socket.socket, commands: list[cmd.Command]) -> bool:
    """Carry out what only the driver can do; True when a rule asked for a PROXY header."""
    expect = False
    for c in commands:
        if isinstance(c, cmd.ExpectProxy):
            expect = True
        elif isinstance(c, cmd.SetMark):
            _setsockopt(client, socket.SOL_SOCKET, getattr(socket, "SO_MARK", 36), c.mark)
        elif isinstance(c, cmd.SetTos):
            if client.family == socket.AF_INET6:
                _setsockopt(client, socket.IPPROTO_IPV6, socket.IPV6_TCLASS, c.tos)
            else:
                _setsockopt(client, socket.IPPROTO_IP, socket.IP_TOS, c.tos)
    commands.clear()
    return expect


def _setsockopt(sock: _socket.socket, level: int, name: int, value: int) -> None:
    # As HAProxy: a socket option that cannot be set is not an error of the stream.
    with contextlib.suppress(OSError):
        sock.setsockopt(level, name, value)


# What close_read takes from the socket at most: the content rules peeked at no more than
# a buffer's worth, and a client that keeps sending must not keep the loop reading.
CLOSE_READ_MAX = 1 << 20


def close_read(client: _socket.socket) -> None:
    """Close a client whose stream a content rule refused: HAProxy had read what it sent,
    so the close is a FIN; the bytes only peeked at are taken first (a close with unread
    data would be a RST), up to CLOSE_READ_MAX."""
    taken = 0
    with contextlib.suppress(OSError):
        while taken < CLOSE_READ_MAX and (data := client.recv(65536, socket.MSG_DONTWAIT)):
            taken += len(data)
    client.close()


def reject(client: _socket.socket, *, silent: bool, reset: bool = True) -> None:
    """Close a refused client: a RST (SO_LINGER 0) or, with `reset` False, an orderly close;
    nothing at all for silent-drop."""
    if silent:
        try:
            client.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
            client.close()  # in repair mode, close sends nothing
            return
        except OSError:
            ttl_level, ttl_name = (
                (socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS)
                if client.family == socket.AF_INET6
                else (socket.IPPROTO_IP, socket.IP_TTL)
            )
            _setsockopt(client, ttl_level, ttl_name, 1)
    if reset or silent:
        close_with_reset(client)
    else:
        client.close()
