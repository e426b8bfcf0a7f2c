"""CliSession: how a stats socket connection reads commands and ends (src/cli.c's rules).

The recorded transcript covers HAProxy's answers; these cases pin down the byte-level rules
with input the recording cannot easily hold: split reads, a line cut by the end of input, the
16 KiB line limit, payloads, escapes, interactive mode, and random garbage (hypothesis).
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pylvs.config.keywords.fingerprint import fingerprint
from pylvs.control.haproxy.commands import HANDLERS, parse_seconds
from pylvs.control.haproxy.context import CliState, Context
from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime, FakeServer
from pylvs.control.haproxy.keywords import KEYWORDS
from pylvs.control.haproxy.session import BUFSIZE, CliSession, split_words
from pylvs.proto.stick import Level


def _runtime() -> FakeRuntime:
    return FakeRuntime(
        [FakeProxy("be", "backend", servers=[FakeServer("s1", port=80), FakeServer("s2")])],
        clock=lambda: 1000.0,
    )


def session(level: Level = Level.ADMIN) -> CliSession:
    return CliSession(Context(_runtime(), CliState(bind_level=level, level=level)))


def test_a_command_split_over_reads_is_answered_once_complete() -> None:
    s = session()
    assert s.feed(b"show cli ") == b""
    assert not s.closed
    assert s.feed(b"level\n") == b"admin\n\n"
    assert s.closed  # not interactive, nothing more sent: the connection ends


def test_a_line_cut_by_the_end_of_input_is_not_run() -> None:
    s = session()
    assert s.feed(b"disable server be/s1", eof=True) == b""
    assert s.closed
    assert s.ctx.runtime.snapshot().proxies[0].servers[0].admin == 0


def test_a_line_filling_the_buffer_closes_without_an_answer() -> None:
    s = session()
    assert s.feed(b"x" * (BUFSIZE - 2)) == b""
    assert not s.closed  # still room for its end
    assert s.feed(b"yy") == b""
    assert s.closed


def test_pipelined_commands_are_all_answered_then_the_connection_ends() -> None:
    s = session()
    out = s.feed(b"show cli level\nget weight be/s1;get weight be/s2\n")
    assert out == b"admin\n\n1 (initial 1)\n\n1 (initial 1)\n\n"
    assert s.closed


def test_an_escaped_semicolon_stays_in_the_word() -> None:
    assert split_words("get weight be/s1\\;x") == (["get", "weight", "be/s1;x"], None)
    assert split_words("a\\\\b c\\ d") == (["a\\b", "c d"], None)
    assert split_words("show info <<") == (["show", "info"], "")


def test_a_nul_byte_ends_the_command() -> None:
    assert split_words("show\0 info") == (["show"], None)


def test_no_more_than_64_words() -> None:
    words, _ = split_words(" ".join(str(i) for i in range(100)))
    assert len(words) == 64


def test_interactive_mode_prompts_and_stays_open_until_quit() -> None:
    s = session()
    assert s.feed(b"prompt\n") == b"\n> "
    assert s.feed(b"show cli level\n") == b"admin\n\n> "
    assert not s.closed
    assert s.feed(b"quit\n") == b""
    assert s.closed


def test_a_payload_is_gathered_up_to_an_empty_line() -> None:
    s = session()
    assert s.feed(b"prompt\nshow backend <<\n") == b"\n> + "
    assert s.feed(b"line one\n") == b"+ "
    assert s.feed(b"\n") == b"# name\nbe\n\n> "


def test_a_lowered_level_is_refused_what_it_lost() -> None:
    s = session()
    out = s.feed(b"user; disable server be/s1; operator\n")
    assert out == b"\nPermission denied\n\nPermission denied\n\n"


def test_severity_output_prefixes_messages_not_dumps() -> None:
    s = session()
    out = s.feed(b"set severity-output number; get weight be; show backend\n")
    assert out == b"\n[3]: Require 'backend/server'.\n\n# name\nbe\n\n"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
@example(b"\xc4\xb0;")  # 'İ': its str.lower() is two characters (the fuzzy match's fingerprint)
def test_garbage_never_raises_and_always_ends(data: bytes) -> None:
    s = session(Level.USER)
    out = s.feed(data, eof=True)
    assert isinstance(out, bytes)
    assert s.closed


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([k[0] for k in KEYWORDS]), max_size=6), st.text(max_size=30))
def test_every_command_with_any_arguments_answers(kws: list[tuple[str, ...]], junk: str) -> None:
    s = session()
    line = ";".join(" ".join((*k, junk)) for k in kws).replace("\n", " ").replace("\0", " ")
    out = s.feed(line.encode() + b"\n", eof=True)
    assert isinstance(out, bytes)


def test_every_keyword_has_a_handler() -> None:
    assert {k[2] for k in KEYWORDS} <= HANDLERS.keys()


def test_fingerprint_counts_letter_transitions() -> None:
    fp = fingerprint(["ab"])
    assert fp[1] == fp[2] == 1  # 'a' and 'b' seen
    assert fp[32 * 28 + 1] == 1 and fp[32 * 1 + 2] == 1 and fp[32 * 2 + 28] == 1


def test_parse_seconds_rounds_up_and_refuses_what_haproxy_refuses() -> None:
    assert parse_seconds("5") == 5
    assert parse_seconds("500ms") == 1
    assert parse_seconds("2m") == 120
    assert parse_seconds("1us") == 1
    assert parse_seconds("0") == 0
    assert parse_seconds("x") is None
    assert parse_seconds("5x") is None
    assert parse_seconds("99999999999") is None


def test_set_server_fqdn_answers_as_haproxy_without_resolvers() -> None:
    """src/server.c cli_parse_set_server: a server without run-time resolution (the fake
    runtime has none; engine/proxy_resolvers.py answers for those that have)."""
    s = session()
    assert s.feed(b"set server be/s1 fqdn foo.fqdn\n") == (
        b"set server <b>/<s> fqdn failed because no resolution is configured.\n\n"
    )
    s = session()
    assert s.feed(b"set server be/s1 fqdn\n") == b"set server <b>/<s> fqdn requires a FQDN.\n\n"


def test_set_server_ssl_needs_prepared_tls_settings() -> None:
    """`set server B/S ssl on|off` (srv_set_ssl): refused, in HAProxy's words, for a server
    whose TLS settings were never prepared; flips srv_use_ssl otherwise."""
    rt = _runtime()
    rt.servers["be", "s2"].ssl_ready = True

    def feed(line: bytes) -> bytes:
        return CliSession(Context(rt, CliState())).feed(line)

    refused = b"'set server <srv> ssl' cannot be set.  default-server should define ssl settings"
    assert feed(b"set server be/s1 ssl on\n") == refused + b"\n\n"
    assert feed(b"set server be/s2 ssl maybe\n") == (
        b"'set server <srv> ssl' expects 'on' or 'off'.\n\n"
    )
    assert feed(b"set server be/s2 ssl on\n") == b"server ssl setting updated.\n\n"
    assert rt.servers["be", "s2"].use_ssl == 1
    assert feed(b"set server be/s2 ssl off\n") == b"server ssl setting updated.\n\n"
    assert rt.servers["be", "s2"].use_ssl == 0


def test_set_server_addr_answers_are_warnings_as_haproxys() -> None:
    """cli_parse_set_server sends srv_update_addr_port's report with LOG_WARNING, whatever it
    says (haproxy 2.6.12: `[4]:` under `set severity-output number`); a server without an
    address (`init-addr none` on a name) cannot take one from the socket."""
    runtime = FakeRuntime(
        [FakeProxy("be", "backend", servers=[FakeServer("s1", port=80),
                                             FakeServer("s2", addr="-", family="")])],
        clock=lambda: 1000.0,
    )  # fmt: skip
    s = CliSession(Context(runtime, CliState()))
    said = s.feed(
        b"set severity-output number; set server be/s1 addr 127.0.0.2;"
        b" set server be/s2 addr 127.0.0.1; set server be/s1 addr bad; set server be/s1 addr\n"
    )
    assert said == (
        b"\n[4]: IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n"
        b"[4]: Update for the current server address family is only supported through"
        b" configuration file by 'stats socket command'\n\n"
        b"[4]: Invalid addr 'bad' by 'stats socket command'\n\n"
        b"[3]: set server <b>/<s> addr requires an address and optionally a port.\n\n"
    )
    assert runtime.servers["be", "s1"].addr == "127.0.0.2"
