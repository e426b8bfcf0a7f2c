"""HAProxy's "did you mean" guess for an unknown keyword of `global` or a proxy section, or an
unknown option (src/cfgparse.c `cfg_find_best_match`, src/proxy.c `proxy_find_best_option`,
2.6): the word nearest by fingerprint (config/keywords/fingerprint.py `closest`) among
HAProxy's candidates: the keywords registered for the section (as `haproxy -dKcfg` lists
them), then the words its parser knows itself (`common_kw_list`, `common_options`).
"""

from __future__ import annotations

from collections.abc import Iterable

from pylvs.config.keywords.fingerprint import closest


def _words(text: str) -> list[str]:
    return text.split()


_GLOBAL_REGISTERED = _words("""
    ca-base close-spread-time crt-base default-path grace h1-accept-payload-with-any-method
    h1-case-adjust h1-case-adjust-file hard-stop-after httpclient.resolvers.id
    httpclient.resolvers.prefer httpclient.ssl.ca-file httpclient.ssl.verify
    issuers-chain-path lua-load lua-load-per-thread lua-prepend-path maxsslconn
    mworker-max-reloads nbthread no-memory-trimming pp2-never-send-local profiling.tasks
    set-var set-var-fmt ssl-default-bind-ciphers ssl-default-bind-ciphersuites
    ssl-default-bind-curves ssl-default-bind-options ssl-default-server-ciphers
    ssl-default-server-ciphersuites ssl-default-server-options ssl-dh-param-file
    ssl-load-extra-del-ext ssl-load-extra-files ssl-mode-async ssl-propquery ssl-provider
    ssl-provider-path ssl-skip-self-issued-ca stats thread-group thread-groups
    tune.fail-alloc tune.fd.edge-triggered tune.h2.header-table-size
    tune.h2.initial-window-size tune.h2.max-concurrent-streams tune.h2.max-frame-size
    tune.idle-pool.shared tune.listener.multi-queue tune.lua.forced-yield tune.lua.maxmem
    tune.lua.service-timeout tune.lua.session-timeout tune.lua.task-timeout
    tune.peers.max-updates-at-once tune.pool-high-fd-ratio tune.pool-low-fd-ratio
    tune.sched.low-latency tune.ssl.cachesize tune.ssl.capture-buffer-size
    tune.ssl.capture-cipherlist-size tune.ssl.default-dh-param tune.ssl.force-private-cache
    tune.ssl.hard-maxrecord tune.ssl.keylog tune.ssl.lifetime tune.ssl.maxrecord
    tune.ssl.ssl-ctx-cache-size tune.vars.check-max-size tune.vars.global-max-size
    tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size
    tune.vars.txn-max-size
""")

_LISTEN_REGISTERED = _words("""
    clitcpka-cnt clitcpka-idle clitcpka-intvl clitimeout compression contimeout declare
    errorfile errorfiles errorloc errorloc302 errorloc303 external-check filter http-check
    http-error max-keep-alive-queue rate-limit retry-on srvtcpka-cnt srvtcpka-idle
    srvtcpka-intvl srvtimeout tcp-check tcp-request tcp-response timeout use-fcgi-app
""")

_GLOBAL_COMMON = _words("""
    global daemon master-worker noepoll nokqueue noevports nopoll busy-polling set-dumpable
    insecure-fork-wanted insecure-setuid-wanted nosplice nogetaddrinfo noreuseport quiet
    zero-warning tune.runqueue-depth tune.maxpollevents tune.maxaccept tune.recv_enough
    tune.buffers.limit tune.buffers.reserve tune.bufsize tune.maxrewrite tune.idletimer
    tune.rcvbuf.client tune.rcvbuf.server tune.sndbuf.client tune.sndbuf.server
    tune.pipesize tune.http.cookielen tune.http.logurilen tune.http.maxhdr
    tune.comp.maxlevel tune.pattern.cache-size uid gid external-check user group nbproc
    maxconn ssl-server-verify maxconnrate maxsessrate maxsslrate maxcomprate maxpipes
    maxzlibmem maxcompcpuusage ulimit-n chroot description node pidfile unix-bind log
    log-send-hostname server-state-base server-state-file log-tag spread-checks
    max-spread-checks cpu-map setenv presetenv unsetenv resetenv strict-limits localpeer
    numa-cpu-mapping defaults listen frontend backend peers resolvers cluster-secret
""")

_LISTEN_COMMON = _words("""
    listen frontend backend defaults server default-server server-template bind monitor-net
    monitor-uri mode id description disabled enabled bind-process acl dynamic-cookie-key
    cookie email-alert persist appsession load-server-state-from-file server-state-file-name
    max-session-srv-conns capture retries http-request http-response http-after-response
    http-send-name-header block redirect use_backend use-server force-persist ignore-persist
    force-persist stick-table stick stats option default_backend http-reuse monitor
    transparent maxconn backlog fullconn dispatch balance hash-type hash-balance-factor
    unique-id-format unique-id-header log-format log-format-sd log-tag log source usesrc
    error-log-format
""")

_OPTIONS = _words("""
    abortonclose allbackups checkcache clitcpka contstats dontlognull http-buffer-request
    http-ignore-probes idle-close-on-response prefer-last-server logasap nolinger persist
    srvtcpka transparent transparent splice-request splice-response splice-auto
    splice-request splice-response splice-auto accept-invalid-http-request
    accept-invalid-http-response dontlog-normal log-separate-errors log-health-checks
    socket-stats tcp-smart-accept tcp-smart-connect independent-streams
    http-use-proxy-header http-pretend-keepalive http-no-delay h1-case-adjust-bogus-client
    h1-case-adjust-bogus-server disable-h2-upgrade
""")

_COMMON_OPTIONS = _words("""
    httpclose http-server-close http-keep-alive redispatch httplog tcplog tcpka httpchk
    ssl-hello-chk smtpchk pgsql-check redis-check mysql-check ldap-check spop-check
    tcp-check external-check forwardfor original-to
""")


def hint(word: str, candidates: Iterable[str]) -> str:
    """ "; did you mean 'x' maybe ?" when HAProxy would guess, else ""."""
    best = closest(word, candidates)
    return f"; did you mean '{best}' maybe ?" if best else ""


def section_hint(word: str, section: str) -> str:
    """The guess for an unknown keyword of `global` or a proxy section ("" elsewhere: HAProxy's
    other section parsers do not guess)."""
    if section == "global":
        return hint(word, [*_GLOBAL_REGISTERED, *_GLOBAL_COMMON])
    if section in ("defaults", "frontend", "backend", "listen"):
        return hint(word, [*_LISTEN_REGISTERED, *_LISTEN_COMMON])
    return ""


def option_hint(word: str) -> str:
    return hint(word, [*_OPTIONS, *_COMMON_OPTIONS])
