"""`peers` sections read and converted: who this process is, where it listens, whom it
connects to, which tables it shares (config/haproxy/others.py, convert_peers.py), with the
messages haproxy 2.6.12 -c gives for the same mistakes."""

from __future__ import annotations

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.model.peers import PeerSpec, PeersSpec

HEAD = "defaults\n    mode http\n" + "".join(
    f"    timeout {t} 1s\n" for t in ("connect", "client", "server")
)
BACKEND = (
    "backend be\n    stick-table type ip size 1k peers mesh\n    stick on src\n"
    "    server s 127.0.0.1:8\n"
    "backend be2\n    stick on src table mesh/shared\n    server s 127.0.0.1:9\n"
)


def _load(text: str, me: str = "A") -> tuple[tuple[PeersSpec, ...], list[str], list[str]]:
    result = load_text(HEAD + text, "p.cfg", env={}, host=HostFacts(hostname=me))
    spec = to_spec(result.config, result.problems).proxies
    problems = result.problems
    return spec.peers, [p.message for p in problems.errors], [p.message for p in problems.warnings]


def test_peer_lines_name_the_local_listener_and_the_remotes() -> None:
    peers, errors, warnings = _load(
        "peers mesh\n    peer A 127.0.0.1:7001\n    peer B 127.0.0.2:7002\n"
        "    table shared type string len 16 size 10k\n" + BACKEND
    )
    assert not errors and not warnings
    [mesh] = peers
    assert mesh.local_name == "A" and mesh.listen_host == "127.0.0.1" and mesh.listen_port == 7001
    # HAProxy links the peers backwards: `show peers` lists B first
    assert mesh.peers == (
        PeerSpec("B", "127.0.0.2", 7002),
        PeerSpec("A", "127.0.0.1", 7001, local=True),
    )
    # the section's own tables first, then the proxies' (registration order)
    assert mesh.tables == ("mesh/shared", "be")


def test_bind_and_server_lines_and_an_address_left_empty() -> None:
    peers, errors, _warnings = _load(
        "peers mesh\n    bind 127.0.0.1:7001\n    server A\n    server B :\n"
        + BACKEND.replace("    stick on src table mesh/shared\n", "")
    )
    assert not errors
    [mesh] = peers
    assert (mesh.listen_host, mesh.listen_port) == ("127.0.0.1", 7001)
    # `server B ${UNSET}:${UNSET}` as vtest leaves an unstarted peer: HAProxy takes it
    # (a server address with no port) and its connects never succeed
    assert mesh.peers[0] == PeerSpec("B", "0.0.0.0", 0)
    assert mesh.peers[1] == PeerSpec("A", "127.0.0.1", 7001, local=True)


def test_a_section_without_this_host_or_disabled_is_not_kept() -> None:
    text = "peers mesh\n    peer A 127.0.0.1:7001\n    peer B 127.0.0.2:7002\n"
    peers, _errors, warnings = _load(text, me="C")
    assert peers == ()
    assert warnings == ["Removing incomplete section 'peers mesh' (no peer named 'C')."]
    peers, errors, warnings = _load(text + "    disabled\n")
    assert peers == () and not errors and not warnings


def test_haproxys_errors() -> None:
    _peers, errors, _warnings = _load(
        "peers mesh\n    bind 127.0.0.1:7001\n    bind 127.0.0.1:7002\n    server A\n"
        "    frobnicate\n"
        "backend be\n    stick-table type ip size 1k peers nowhere\n    stick on src\n"
    )
    assert errors == [
        'One listener per "peers" section is authorized but another is already configured'
        " at [p.cfg:7].",
        "unknown keyword 'frobnicate' in 'peers' section",
        "Proxy 'be': unable to find sync peers 'nowhere'.",
    ]
