"""HAProxy's per-stream HTTP/1 connection machines, sans I/O: events in, commands out.

    client.py   ClientMachine: one client connection, its requests one after another
    server.py   ServerMachine: one server connection, reused across clients by pool.py
    pool.py     ServerPool: `http-reuse never|safe|aggressive|always` as a pure decision
    events.py   what the machines are told; commands.py what they ask for
    machine.py  the dispatch both machines share

A driver owns the sockets and the clock.  It feeds each machine what happened on its socket
(`DataRead`, `EofRead`, `WriteBlocked`/`WriteDrained`, `Connected`/`ConnectFailed`,
`TimerFired` once `machine.deadline` has passed), carries out the commands about that socket
(`Write`, `ShutWrite`, `Close`, `PauseReading`/`ResumeReading`, `Connect`, `Capture`,
`Release`), and hands every other command to the machine on the other side, turned into its
event by `route()`:

    client machine -> server machine          server machine -> client machine
    ForwardHead     -> HeadForwarded           DeliverHead     -> ResponseStarted
    ForwardData     -> DataForwarded           DeliverData     -> ResponseData
    ForwardTrailers -> TrailersForwarded       DeliverTrailers -> ResponseTrailers
    ForwardEnd      -> EndForwarded            DeliverEnd      -> ResponseEnded
    ForwardTunnel   -> TunnelForwarded         DeliverTunnel   -> TunnelDelivered
    ForwardShut     -> ClientShut              DeliverShut     -> ServerShut
    ForwardAbort    -> ClientAborted           DeliverCut      -> ResponseCut
                                               DeliverFailure  -> ServerFailed

Between `ForwardHead` and `HeadForwarded` the driver picks the backend and the server (rules
and the balance algorithm come later, on the config's parse trees and sched/) and a server
connection: `ServerPool.take` names an idle one it may reuse, or none (then a new
`ServerMachine` connects).  `Release` offers a finished connection back (`ServerPool.release`
says whether it is kept); the pool's `purge` closes the idle connections HAProxy would drop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import commands as cmd
from . import events as ev

Event = ev.ClientEvent | ev.ServerEvent

_ROUTES: dict[type, Callable[[Any], Event]] = {
    cmd.ForwardHead: lambda c: ev.HeadForwarded(c.head, c.first, c.mode),
    cmd.ForwardData: lambda c: ev.DataForwarded(c.data),
    cmd.ForwardTrailers: lambda c: ev.TrailersForwarded(c.fields),
    cmd.ForwardTunnel: lambda c: ev.TunnelForwarded(c.data),
    cmd.ForwardEnd: lambda c: ev.END_FORWARDED,
    cmd.ForwardShut: lambda c: ev.CLIENT_SHUT,
    cmd.ForwardAbort: lambda c: ev.CLIENT_ABORTED,
    cmd.DeliverHead: lambda c: ev.ResponseStarted(c.head),
    cmd.DeliverData: lambda c: ev.ResponseData(c.data),
    cmd.DeliverTrailers: lambda c: ev.ResponseTrailers(c.fields),
    cmd.DeliverTunnel: lambda c: ev.TunnelDelivered(c.data),
    cmd.DeliverFailure: lambda c: ev.ServerFailed(c.status),
    cmd.DeliverEnd: lambda c: ev.RESPONSE_ENDED,
    cmd.DeliverShut: lambda c: ev.SERVER_SHUT,
    cmd.DeliverCut: lambda c: ev.RESPONSE_CUT,
}


def route(command: cmd.Command) -> Event | None:
    """The event the other side's machine gets for `command` (None: a command for the
    driver itself)."""
    make = _ROUTES.get(type(command))
    return None if make is None else make(command)
