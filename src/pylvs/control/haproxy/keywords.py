"""The stats socket's keyword table and HAProxy's help and unknown-command answers (src/cli.c).

`KEYWORDS` lists HAProxy 2.6.12's CLI keywords as a worker process has them, in the order
HAProxy registers them (the link order of its object files: that order decides which of two
equally close commands an unknown command suggests), with their usage lines and the name of
the pylvs handler.  Expert, experimental and master-only keywords are left out: a worker's
CLI neither lists nor matches them unless those modes are on, and pylvs offers none of them.
Commands pylvs does not implement (SSL, ACL and map versions, Lua, tracing, profiling,
resolvers, caches...) keep their place, so that `help` and the suggestions are HAProxy's,
and answer that pylvs does not support them (handler "unsupported").

`find(words)` is cli_find_kw (the first keyword whose words all match the command's first
words); `usage(words, help)` is cli_gen_usage_msg: `help [words]` lists the commands starting
with the given words (all of them if none match), an unknown command gets the commands
closest to its words by HAProxy's word fingerprint distance (tools.c
update_word_fingerprint / word_fingerprint_distance; at most 5, none much further than the
best), or every command when nothing matches at all.  The list is sorted by usage text and
ends with the help / prompt / quit lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.config.keywords.fingerprint import distance, fingerprint

PREFIX_WORDS = 5  # CLI_PREFIX_KW_NB
MAX_MATCHES = 5  # CLI_MAX_MATCHES

Keyword = tuple[tuple[str, ...], str | None, str]

KEYWORDS: tuple[Keyword, ...] = (
    (
        ("show", "tls-keys"),
        "show tls-keys [id|*]                    :"
        " show tls keys references or dump tls ticket keys when id specified",
        "unsupported",
    ),
    (
        ("set", "ssl", "tls-key"),
        "set ssl tls-key [id|file] <key>         :"
        " set the next TLS key for the <id> or <file> listener to <key>",
        "unsupported",
    ),
    (
        ("set", "ssl", "ocsp-response"),
        "set ssl ocsp-response <resp|payload>    :"
        " update a certificate's OCSP Response from a base64-encode DER",
        "unsupported",
    ),
    (
        ("show", "ssl", "ocsp-response"),
        "show ssl ocsp-response [id]             :"
        " display the IDs of the OCSP responses used in memory, or the details of a"
        " single OCSP response",
        "unsupported",
    ),
    (
        ("show", "ssl", "providers"),
        "show ssl providers                      : show loaded SSL providers",
        "unsupported",
    ),
    (
        ("add", "ssl", "crt-list"),
        "add ssl crt-list <list> <cert> [opts]*  :"
        " add to crt-list file <list> a line <cert> or a payload",
        "unsupported",
    ),
    (
        ("del", "ssl", "crt-list"),
        "del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>",
        "unsupported",
    ),
    (
        ("show", "ssl", "crt-list"),
        "show ssl crt-list [-n] [<list>]         :"
        " show the list of crt-lists or the content of a crt-list file <list>",
        "unsupported",
    ),
    (
        ("new", "ssl", "cert"),
        "new ssl cert <certfile>                 :"
        " create a new certificate file to be used in a crt-list or a directory",
        "ssl_cert",
    ),
    (
        ("set", "ssl", "cert"),
        "set ssl cert <certfile> <payload>       : replace a certificate file",
        "ssl_cert",
    ),
    (
        ("commit", "ssl", "cert"),
        "commit ssl cert <certfile>              : commit a certificate file",
        "ssl_cert",
    ),
    (
        ("abort", "ssl", "cert"),
        "abort ssl cert <certfile>               : abort a transaction for a certificate file",
        "ssl_cert",
    ),
    (
        ("del", "ssl", "cert"),
        "del ssl cert <certfile>                 : delete an unused certificate file",
        "ssl_cert",
    ),
    (
        ("show", "ssl", "cert"),
        "show ssl cert [<certfile>]              :"
        " display the SSL certificates used in memory, or the details of a file",
        "ssl_show_cert",
    ),
    (
        ("new", "ssl", "ca-file"),
        "new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list",
        "ssl_ca_file",
    ),
    (
        ("set", "ssl", "ca-file"),
        "set ssl ca-file <cafile> <payload>      : replace a CA file",
        "ssl_ca_file",
    ),
    (
        ("commit", "ssl", "ca-file"),
        "commit ssl ca-file <cafile>             : commit a CA file",
        "ssl_ca_file",
    ),
    (
        ("abort", "ssl", "ca-file"),
        "abort ssl ca-file <cafile>              : abort a transaction for a CA file",
        "ssl_ca_file",
    ),
    (
        ("del", "ssl", "ca-file"),
        "del ssl ca-file <cafile>                : delete an unused CA file",
        "ssl_ca_file",
    ),
    (
        ("show", "ssl", "ca-file"),
        "show ssl ca-file [<cafile>[:<index>]]   :"
        " display the SSL CA files used in memory, or the details of a <cafile>, or a"
        " single certificate of index <index> of a CA file <cafile>",
        "ssl_ca_file",
    ),
    (
        ("new", "ssl", "crl-file"),
        "new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list",
        "unsupported",
    ),
    (
        ("set", "ssl", "crl-file"),
        "set ssl crl-file <crlfile> <payload>    : replace a CRL file",
        "unsupported",
    ),
    (
        ("commit", "ssl", "crl-file"),
        "commit ssl crl-file <crlfile>           : commit a CRL file",
        "unsupported",
    ),
    (
        ("abort", "ssl", "crl-file"),
        "abort ssl crl-file <crlfile>            : abort a transaction for a CRL file",
        "unsupported",
    ),
    (
        ("del", "ssl", "crl-file"),
        "del ssl crl-file <crlfile>              : delete an unused CRL file",
        "unsupported",
    ),
    (
        ("show", "ssl", "crl-file"),
        "show ssl crl-file [<crlfile[:<index>>]] :"
        " display the SSL CRL files used in memory, or the details of a <crlfile>, or a"
        " single CRL of index <index> of CRL file <crlfile>",
        "unsupported",
    ),
    (
        ("show", "sess"),
        "show sess [id]                          :"
        " report the list of current sessions or dump this exact session",
        "show_sess",
    ),
    (
        ("shutdown", "session"),
        "shutdown session [id]                   : kill a specific session",
        "shutdown_session",
    ),
    (
        ("shutdown", "sessions", "server"),
        "shutdown sessions server <bk>/<srv>     : kill sessions on a server",
        "shutdown_sessions_server",
    ),
    (
        ("clear", "counters"),
        "clear counters [all]                    : clear max statistics counters (or all counters)",
        "clear_counters",
    ),
    (
        ("show", "info"),
        "show info [desc|json|typed|float]*      : report information about the running process",
        "show_info",
    ),
    (
        ("show", "stat"),
        "show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server",
        "show_stat",
    ),
    (
        ("show", "schema", "json"),
        "show schema json                        : report schema used for stats",
        "show_schema",
    ),
    (
        ("disable", "agent"),
        "disable agent                           : disable agent checks",
        "check_toggle",
    ),
    (
        ("disable", "health"),
        "disable health                          : disable health checks",
        "check_toggle",
    ),
    (
        ("disable", "server"),
        "disable server (DEPRECATED)             :"
        " disable a server for maintenance (use 'set server' instead)",
        "disable_server",
    ),
    (
        ("enable", "agent"),
        "enable agent                            : enable agent checks",
        "check_toggle",
    ),
    (
        ("enable", "health"),
        "enable health                           : enable health checks",
        "check_toggle",
    ),
    (
        ("enable", "server"),
        "enable server  (DEPRECATED)             :"
        " enable a disabled server (use 'set server' instead)",
        "enable_server",
    ),
    (
        ("set", "maxconn", "server"),
        "set maxconn server <bk>/<srv>           : change a server's maxconn setting",
        "set_maxconn_server",
    ),
    (
        ("set", "server"),
        "set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
        "set_server",
    ),
    (
        ("get", "weight"),
        "get weight <bk>/<srv>                   : report a server's current weight",
        "get_weight",
    ),
    (
        ("set", "weight"),
        "set weight <bk>/<srv>  (DEPRECATED)     :"
        " change a server's weight (use 'set server' instead)",
        "set_weight",
    ),
    (
        ("add", "server"),
        "add server <bk>/<srv>                   : create a new server",
        "add_server",
    ),
    (
        ("del", "server"),
        "del server <bk>/<srv>                   : remove a dynamically added server",
        "del_server",
    ),
    (
        ("clear", "table"),
        "clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)",
        "table",
    ),
    (
        ("set", "table"),
        "set table <table> key <k> [data.* <v>]* : update or create a table entry's data",
        "table",
    ),
    (
        ("show", "table"),
        "show table <table> [<filter>]*          :"
        " report table usage stats or dump this table's contents (filter: data/key)",
        "table",
    ),
    (
        ("show", "peers"),
        "show peers [dict|-] [section]           :"
        " dump some information about all the peers or this peers section",
        "show_peers",
    ),
    (
        ("show", "resolvers"),
        "show resolvers [id]                     :"
        " dumps counters from all resolvers section and associated name servers",
        "show_resolvers",
    ),
    (("help",), None, "help"),
    (("prompt",), None, "prompt"),
    (("quit",), None, "quit"),
    (("_getsocks",), None, "getsocks"),
    (("expert-mode",), None, "mode"),
    (("experimental-mode",), None, "mode"),
    (
        ("set", "maxconn", "global"),
        "set maxconn global <value>              : change the per-process maxconn setting",
        "set_maxconn_global",
    ),
    (
        ("set", "rate-limit"),
        "set rate-limit <setting> <value>        : change a rate limiting value",
        "set_rate_limit",
    ),
    (
        ("set", "severity-output"),
        "set severity-output [none|number|string]:"
        " set presence of severity level in feedback information",
        "set_severity_output",
    ),
    (
        ("set", "timeout"),
        "set timeout [cli] <delay>               : change a timeout setting",
        "set_timeout",
    ),
    (
        ("show", "env"),
        "show env [var]                          : dump environment variables known to the process",
        "show_env",
    ),
    (
        ("show", "cli", "sockets"),
        "show cli sockets                        : dump list of cli sockets",
        "show_cli_sockets",
    ),
    (
        ("show", "cli", "level"),
        "show cli level                          : display the level of the current CLI session",
        "show_cli_level",
    ),
    (
        ("show", "fd"),
        "show fd [num]                           :"
        " dump list of file descriptors in use or a specific one",
        "unsupported",
    ),
    (
        ("show", "activity"),
        "show activity                           :"
        " show per-thread activity stats (for support/developers)",
        "unsupported",
    ),
    (
        ("show", "version"),
        "show version                            : show version of the current process",
        "show_version",
    ),
    (
        ("operator",),
        "operator                                :"
        " lower the level of the current CLI session to operator",
        "set_level",
    ),
    (
        ("user",),
        "user                                    :"
        " lower the level of the current CLI session to user",
        "set_level",
    ),
    (
        ("disable", "frontend"),
        "disable frontend <frontend>             : temporarily disable specific frontend",
        "disable_frontend",
    ),
    (
        ("enable", "frontend"),
        "enable frontend <frontend>              : re-enable specific frontend",
        "enable_frontend",
    ),
    (
        ("set", "maxconn", "frontend"),
        "set maxconn frontend <frontend> <value> : change a frontend's maxconn setting",
        "set_maxconn_frontend",
    ),
    (
        ("show", "servers", "conn"),
        "show servers conn [<backend>]           :"
        " dump server connections status (all or for a single backend)",
        "unsupported",
    ),
    (
        ("show", "servers", "state"),
        "show servers state [<backend>]          :"
        " dump volatile server information (all or for a single backend)",
        "show_servers_state",
    ),
    (
        ("show", "backend"),
        "show backend                            : list backends in the current running config",
        "show_backend",
    ),
    (
        ("shutdown", "frontend"),
        "shutdown frontend <frontend>            : stop a specific frontend",
        "shutdown_frontend",
    ),
    (
        ("set", "dynamic-cookie-key", "backend"),
        "set dynamic-cookie-key backend <bk> <k> : change a backend secret key for dynamic cookies",
        "unsupported",
    ),
    (
        ("enable", "dynamic-cookie", "backend"),
        "enable dynamic-cookie backend <bk>      : enable dynamic cookies on a specific backend",
        "unsupported",
    ),
    (
        ("disable", "dynamic-cookie", "backend"),
        "disable dynamic-cookie backend <bk>     : disable dynamic cookies on a specific backend",
        "unsupported",
    ),
    (
        ("show", "errors"),
        "show errors [<px>] [request|response]   :"
        " report last request and/or response errors for each proxy",
        "show_errors",
    ),
    (
        ("show", "cache"),
        "show cache                              : show cache status",
        "show_cache",
    ),
    (
        ("get", "var"),
        "get var <name>                          : retrieve contents of a process-wide variable",
        "get_var",
    ),
    (
        ("show", "libs"),
        "show libs                               : show loaded object files and libraries",
        "unsupported",
    ),
    (
        ("show", "threads"),
        "show threads                            : show some threads debugging information",
        "unsupported",
    ),
    (
        ("show", "events"),
        "show events [<sink>] [-w] [-n]          : show event sink state",
        "unsupported",
    ),
    (("add", "acl"), "add acl [@<ver>] <acl> <pattern>        : add an acl entry", "patterns_add"),
    (
        ("clear", "acl"),
        "clear acl [@<ver>] <acl>                : clear the contents of this acl",
        "patterns_clear",
    ),
    (
        ("commit", "acl"),
        "commit acl @<ver> <acl>                 : commit the ACL at this version",
        "unsupported",
    ),
    (
        ("del", "acl"),
        "del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>",
        "patterns_del",
    ),
    (
        ("get", "acl"),
        "get acl <acl> <value>                   :"
        " report the patterns matching a sample for an ACL",
        "unsupported",
    ),
    (
        ("prepare", "acl"),
        "prepare acl <acl>                       :"
        " prepare a new version for atomic ACL replacement",
        "unsupported",
    ),
    (
        ("show", "acl"),
        "show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents",
        "patterns_show",
    ),
    (
        ("add", "map"),
        "add map [@<ver>] <map> <key> <val>      :"
        " add a map entry (payload supported instead of key/val)",
        "patterns_add",
    ),
    (
        ("clear", "map"),
        "clear map [@<ver>] <map>                : clear the contents of this map",
        "patterns_clear",
    ),
    (
        ("commit", "map"),
        "commit map @<ver> <map>                 : commit the map at this version",
        "unsupported",
    ),
    (
        ("del", "map"),
        "del map <map> [<key>|#<ref>]            : delete map entries matching <key>",
        "patterns_del",
    ),
    (
        ("get", "map"),
        "get map <acl> <value>                   :"
        " report the keys and values matching a sample for a map",
        "unsupported",
    ),
    (
        ("prepare", "map"),
        "prepare map <acl>                       :"
        " prepare a new version for atomic map replacement",
        "unsupported",
    ),
    (
        ("set", "map"),
        "set map <map> [<key>|#<ref>] <value>    : modify a map entry",
        "patterns_set",
    ),
    (
        ("show", "map"),
        "show map [@ver] [map]                   : report available maps or dump a map's contents",
        "patterns_show",
    ),
    (
        ("show", "pools"),
        "show pools                              : report information about the memory pools usage",
        "unsupported",
    ),
    (
        ("trace",),
        "trace [<module>|0] [cmd [args...]]      :"
        " manage live tracing (empty to list, 0 to stop all)",
        "unsupported",
    ),
    (
        ("show", "trace"),
        "show trace [<module>]                   : show live tracing state",
        "unsupported",
    ),
    (
        ("set", "profiling"),
        "set profiling <what> {auto|on|off}      :"
        " enable/disable resource profiling (tasks,memory)",
        "unsupported",
    ),
    (
        ("show", "profiling"),
        "show profiling [<what>|<#lines>|byaddr]*: show profiling state (all,status,tasks,memory)",
        "unsupported",
    ),
    (
        ("show", "tasks"),
        "show tasks                              : show running tasks",
        "unsupported",
    ),
    (
        ("show", "startup-logs"),
        "show startup-logs                       : report logs emitted during HAProxy startup",
        "unsupported",
    ),
)

_TAIL = (
    "  help [<command>]                        : list matching or all commands\n"
    "  prompt                                  : toggle interactive mode with prompt\n"
    "  quit                                    : disconnect\n"
)


# The experimental keywords pylvs implements, each registered right after the named one
# (src/vars.c registers `set var` after `get var`): `help` lists them once `experimental-mode
# on` (ACCESS_EXPERIMENTAL); before that the command is refused as restricted.
EXPERIMENTAL: tuple[tuple[tuple[str, ...], Keyword], ...] = (
    (
        ("get", "var"),
        (
            ("set", "var"),
            "set var <name> [fmt|expr] {<fmt>|<expr>}: set variable from an expression or a format",
            "set_var",
        ),
    ),
)


EXPERIMENTAL_WORDS = frozenset(kw[0] for _, kw in EXPERIMENTAL)


def available(experimental: bool) -> tuple[Keyword, ...]:
    """The keywords a session has: the worker's, and the experimental ones when enabled."""
    if not experimental:
        return KEYWORDS
    out: list[Keyword] = []
    for kw in KEYWORDS:
        out.append(kw)
        out.extend(extra for after, extra in EXPERIMENTAL if after == kw[0])
    return tuple(out)


def find(words: Sequence[str], keywords: Sequence[Keyword] = KEYWORDS) -> Keyword | None:
    """cli_find_kw: the first keyword all of whose words begin the command."""
    for kw in keywords:
        kw_words = kw[0]
        if len(words) >= len(kw_words) and all(
            a == b for a, b in zip(kw_words, words, strict=False)
        ):
            return kw
    return None


def _prefix_len(kw_words: tuple[str, ...], args: Sequence[str], limit: int) -> int:
    n = 0
    while n < limit and n < len(kw_words) and n < len(args) and args[n]:
        if kw_words[n] != args[n]:
            break
        n += 1
    return n


def _fuzzy(args: Sequence[str], length: int, keywords: Sequence[Keyword]) -> list[Keyword]:
    """The best fuzzy matches on the words after the `length` matching ones."""
    best: list[tuple[int, Keyword]] = []
    rest: list[str] = []
    for word in args[length:PREFIX_WORDS]:
        if not word:
            break
        rest.append(word)
    word_fp = fingerprint(rest)
    word_len = sum(len(w) for w in rest)
    for kw in keywords:
        if kw[1] is None or _prefix_len(kw[0], args, length) != length:
            continue
        tail = kw[0][length:PREFIX_WORDS]
        dist = distance(word_fp, fingerprint(tail))
        total = word_len + sum(len(w) for w in tail)
        worst = best[-1][0] if len(best) == MAX_MATCHES else 1 << 31
        if dist < 5 * total // 2 and dist < worst:
            best = best[: MAX_MATCHES - 1] if len(best) == MAX_MATCHES else best
            i = len(best)
            while i > 0 and best[i - 1][0] > dist:
                i -= 1
            best.insert(i, (dist, kw))
    if not best:
        return []
    first = best[0][0]
    return [kw for dist, kw in best if dist <= 5 * first // 2]


def usage(args: Sequence[str], keywords: Sequence[Keyword] = KEYWORDS) -> str:
    """cli_gen_usage_msg for `help [words]` or an unknown command `args`, among `keywords`
    (a worker's by default; the master CLI has its own)."""
    is_help = bool(args) and args[0] == "help"
    args = list(args[1:] if is_help else args)
    length = 0
    for kw in keywords:
        if kw[1] is not None:
            length = max(length, _prefix_len(kw[0], args, PREFIX_WORDS))
    if is_help:
        out = "The following commands are valid at this level:\n"
    elif not length and (not args or not args[0]):
        out = "Unknown command. Please enter one of the following commands only:\n"
    else:
        out = "Unknown command, but maybe one of the following ones is a better match:\n"
    entries = _fuzzy(args, length, keywords) if length < len(args) and args[length] else []
    if not entries:
        entries = [
            kw
            for kw in keywords
            if kw[1] is not None and _prefix_len(kw[0], args, length) == length
        ]
    for kw in sorted(entries, key=lambda k: k[1] or ""):
        out += f"  {kw[1]}\n"
    return out + _TAIL
