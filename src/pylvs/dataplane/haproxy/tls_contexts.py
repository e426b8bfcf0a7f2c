"""Python `ssl` contexts for the HAProxy mode's TLS binds and servers, and the CA files the
runtime API creates (HAProxy 2.6 src/ssl_sock.c ssl_sock_prepare_ctx / prepare_srv_ctx,
src/ssl_ckch.c for `new|set|commit ssl ca-file`).

A bind's certificates are picked by the client's SNI as HAProxy picks them
(ssl_sock_switchctx_cbk): an exact name among the certificates' CN and DNS subject
alternative names, then a wildcard `*.domain`, else the first certificate (the default).
Building a context reads files: it runs when the runtime starts (a bad file is the bind's
`FILE:LINE` and HAProxy's words) or, for a server, at its first connection and again after
`set server B/S ssl` or a CA file commit.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from pylvs.model.proxy_spec import ServerSpec
from pylvs.model.tls import (
    BIND_DEFAULT_MIN,
    NO_DEFAULTS,
    CrtListEntry,
    TlsBindSpec,
    TlsDefaults,
    TlsServerSpec,
    version_range,
)
from pylvs.proto import x509
from pylvs.proto.crtlist import parse_crt_list
from pylvs.proto.tls_store import CaStore

from . import tls_native

log = logging.getLogger("pylvs.proxy")
T = TypeVar("T")
_VERSIONS = {
    "SSLv3": ssl.TLSVersion.SSLv3,
    "TLSv1.0": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
_VERIFY = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
_SKIP = (".key", ".ocsp", ".issuer", ".sctl")  # files beside certificates in a crt directory


class TlsSetupError(OSError):
    """A certificate, key, CA file or setting a context cannot take (HAProxy's words; an
    OSError: the runtime's start and a reload report it as they report a bind failure)."""


class BindContext(ssl.SSLContext):
    """A bind's context, with what its certificate's algorithms are (TlsFacts.local_*)."""

    local_key_alg = ""
    local_sig_alg = ""


class SniObject(ssl.SSLObject):
    """An SSLObject that remembers the name the client asked for (ssl_fc_sni)."""

    sni: str | None = None


def ca_pem(store: CaStore, name: str, *, bind: bool = False) -> str:
    """The PEM text of CA file `name`: the store's (committed from the runtime API, or
    read before), else the file on disk, recorded in the store."""
    entry = store.files.get(name)
    if entry is not None:
        if bind:
            store.used.add(name)
        return entry.pem
    try:
        with open(name, encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError as exc:
        raise TlsSetupError(f"'ca-file' : unable to load {name}") from exc
    got = store.loaded(name, text, bind=bind)
    if got is None or not got.certs:
        raise TlsSetupError(f"Couldn't open the ca-file '{name}' (no certificate or crl found).")
    return text


# the versions this OpenSSL has (methodVersions[i].option: SSLv3 is usually compiled out)
_AVAILABLE = tuple(
    v for v, has in zip(_VERSIONS, (ssl.HAS_SSLv3, ssl.HAS_TLSv1, ssl.HAS_TLSv1_1,
                                    ssl.HAS_TLSv1_2, ssl.HAS_TLSv1_3), strict=True) if has
)  # fmt: skip


def _versions(
    ctx: ssl.SSLContext, spec: TlsBindSpec | TlsServerSpec, defaults: TlsDefaults, bind: bool
) -> None:
    """The protocol range (model/tls.py version_range: the context's own words, then the
    global defaults'), the session tickets (`no-tls-tickets`)."""
    got = version_range(
        spec.min_ver or defaults.min_ver,
        spec.max_ver or defaults.max_ver,
        spec.no_versions | defaults.no_versions,
        _AVAILABLE,
        BIND_DEFAULT_MIN if bind else None,
    )
    if got is None:
        raise TlsSetupError("all SSL/TLS versions are disabled.")
    ctx.minimum_version = _VERSIONS[got[0]]
    ctx.maximum_version = _VERSIONS[got[1]]
    tickets = isinstance(spec, TlsServerSpec) and spec.tickets  # `tls-tickets` after `ssl`
    if spec.no_tickets or (defaults.no_tickets and not tickets):
        ctx.options |= ssl.OP_NO_TICKET


def _ciphers(ctx: ssl.SSLContext, ciphers: str | None, suites: str | None = None) -> None:
    """`ciphers` (or the global default); without either, OpenSSL's own default list as
    HAProxy leaves it (Python's contexts start from a narrower list of their own);
    `ciphersuites`, the TLS 1.3 ones (tls_native.py: the ssl module has no method)."""
    try:
        ctx.set_ciphers(ciphers or "DEFAULT")
    except ssl.SSLError as exc:
        raise TlsSetupError(f"unable to set SSL cipher list to '{ciphers}'") from exc
    if suites is not None and not _native(tls_native.set_ciphersuites, ctx, suites):
        raise TlsSetupError(f"unable to set TLS 1.3 cipher suites to '{suites}'")


def _native(call: Callable[[ssl.SSLContext, T], bool], ctx: ssl.SSLContext, arg: T) -> bool:
    try:
        return call(ctx, arg)
    except tls_native.NativeUnavailableError as exc:
        raise TlsSetupError(f"cannot apply '{arg}': {exc}") from None


def _groups(ctx: ssl.SSLContext, spec: TlsBindSpec, defaults: TlsDefaults) -> None:
    """`curves` (or `ssl-default-bind-curves`), else `ecdhe` (ssl_sock_prepare_ctx: with
    OpenSSL >= 1.1.1 no curve is set without either: OpenSSL's defaults)."""
    curves = spec.curves or defaults.curves
    if curves is not None:
        if not _native(tls_native.set_groups, ctx, curves):
            raise TlsSetupError(f"unable to set SSL curves list to '{curves}'")
    elif spec.ecdhe is not None and not _native(tls_native.set_groups, ctx, spec.ecdhe):
        raise TlsSetupError(f"unable to set elliptic named curve to '{spec.ecdhe}'")


def _dh(ctx: ssl.SSLContext, path: str, data: bytes, key_alg: str, defaults: TlsDefaults) -> None:
    """ssl_sock_load_dh_params: the certificate file's own DH parameters, else the global
    `ssl-dh-param-file`'s, else with `tune.ssl.default-dh-param` HAProxy's group for the
    key's size, capped by it (ssl_get_tmp_dh: RSA/DSA keys; ffdhe2048 or ffdhe4096), else
    none (no DHE cipher is offered)."""
    source = path if b"DH PARAMETERS-----" in data else defaults.dh_param_file
    if source is not None:
        try:
            ctx.load_dh_params(source)
        except (OSError, ssl.SSLError) as exc:
            raise TlsSetupError(f"unable to load the DH parameter specified in '{source}'") from exc
        return
    if not defaults.default_dh_param:
        return
    digits = "".join(c for c in key_alg if c.isdigit())
    bits = int(digits) if key_alg.startswith(("RSA", "DSA")) and digits else 0
    bits = min(bits, defaults.default_dh_param)
    if bits < 2048:  # HAProxy's own 1024-bit group: OpenSSL 3 (security level 2) refuses it
        log.warning(
            "unable to load default 1024 bits DH parameter for certificate '%s'."
            ", DH ciphers won't be available.",
            path,
        )
        return
    if not _native(tls_native.set_ffdhe, ctx, 4096 if bits >= 4096 else 2048):
        raise TlsSetupError(f"unable to load the default DH parameter for certificate '{path}'")


def _load_chain(
    ctx: ssl.SSLContext, path: str, store: CaStore | None = None, user: object = None
) -> bytes:
    """The certificate (and key) file `path` in `ctx` (the store's content when it holds
    the file: a commit's, or what was read at start); its content.  `user`: the context
    the store counts among the file's instances."""
    held = store.cert_pem(path) if store is not None else None
    if held is not None:
        data = held.encode("ascii", "replace")
    else:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise TlsSetupError(
                f"unable to stat SSL certificate from file '{path}' : {exc.strerror}."
            ) from exc
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise TlsSetupError(f"unable to load certificate from file '{path}'.")
    if store is not None:
        store.cert_loaded(path, data.decode("ascii", "replace"))
        if user is not None:
            store.cert_used(path, user)
    key = None if b"PRIVATE KEY-----" in data else path + ".key"
    try:
        _load_pem(ctx, data, path if held is None else None, key)
    except (OSError, ssl.SSLError) as exc:
        if key is not None:
            raise TlsSetupError(f"No Private Key found in '{key}'.") from exc
        raise TlsSetupError(
            f"inconsistencies between private key and certificate loaded '{path}'."
        ) from exc
    return data


def _load_pem(ctx: ssl.SSLContext, data: bytes, path: str | None, key: str | None) -> None:
    """load_cert_chain from the file, or (`path` None) from `data` through a memory file
    (the ssl module reads certificates from paths only)."""
    if path is not None:
        ctx.load_cert_chain(path, key)
        return
    fd = os.memfd_create("pylvs-cert", os.MFD_CLOEXEC)
    try:
        os.write(fd, data)
        ctx.load_cert_chain(f"/proc/self/fd/{fd}", key)
    finally:
        os.close(fd)


def pair_ok(pem: str) -> bool:
    """Whether a PEM text's private key fits its certificate (X509_check_private_key)."""
    try:
        _load_pem(
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), pem.encode("ascii", "replace"), None, None
        )
    except (OSError, ssl.SSLError):
        return False
    return True


def _first_cert(data: bytes) -> x509.Cert | None:
    try:
        return x509.parse(x509.pem_blocks(data.decode("ascii", "replace"))[0])
    except (IndexError, x509.CertError):
        return None


def _names(cert: x509.Cert | None) -> list[str]:
    """The names SNI matches a certificate on: its CN and DNS subject alternative names
    (ssl_sock_load_cert_sni); lower case."""
    return [] if cert is None else [n.lower() for n in (*cert.common_names, *cert.dns)]


class BindTls:
    """The contexts of one TLS bind: the default and those SNI picks; built again from the
    store's contents after a commit (`current`)."""

    def __init__(
        self, spec: TlsBindSpec, store: CaStore, defaults: TlsDefaults = NO_DEFAULTS
    ) -> None:
        self.spec = spec
        self.defaults = defaults
        self.store = store
        self.default: ssl.SSLContext | None = None
        self.exact: dict[str, ssl.SSLContext] = {}
        self.wild: dict[str, ssl.SSLContext] = {}
        self.handshakes = 0  # ssl_sess
        self.failed = 0  # ssl_failed_handshake
        self.generation = -1
        self._build()

    def _build(self) -> None:
        spec, store = self.spec, self.store
        generation = store.generation
        entries = [CrtListEntry(p) for p in self._expand(spec.certs)]
        for path in spec.crt_lists:
            entries.extend(_read_crt_list(path, spec.crt_base, spec.ca_base))
        if not entries:
            raise TlsSetupError("no certificate given ('crt' or 'crt-list')")
        default: ssl.SSLContext | None = None
        exact: dict[str, ssl.SSLContext] = {}
        wild: dict[str, ssl.SSLContext] = {}
        for i, entry in enumerate(entries):
            ctx, cert = self._context(entry, store, (id(self), i))
            for name in list(entry.filters) or _names(cert):
                if name.startswith("!"):
                    continue
                if name.startswith("*."):
                    wild.setdefault(name[2:].lower(), ctx)
                else:
                    exact.setdefault(name.lower(), ctx)
            default = default or ctx
        self.default, self.exact, self.wild = default, exact, wild
        self.generation = generation

    def current(self) -> None:
        """After a commit (`commit ssl cert|ca-file`), new handshakes get contexts built
        from the store's contents, as HAProxy rebuilds the instances of a committed file;
        a build that fails keeps the contexts in use (said in the log)."""
        if self.generation == self.store.generation:
            return
        try:
            self._build()
        except TlsSetupError as exc:
            log.warning("bind %s: %s", self.spec.where, exc)
            self.generation = self.store.generation

    @staticmethod
    def _expand(paths: tuple[str, ...]) -> list[str]:
        """`crt DIR` loads the directory's files in name order (ssl_sock_load_cert)."""
        out: list[str] = []
        for path in paths:
            if os.path.isdir(path):
                try:
                    names = sorted(os.listdir(path))
                except OSError as exc:
                    raise TlsSetupError(
                        f"unable to scan directory '{path}' : {exc.strerror}."
                    ) from exc
                out.extend(
                    os.path.join(path, n)
                    for n in names
                    if not n.endswith(_SKIP) and os.path.isfile(os.path.join(path, n))
                )
            else:
                out.append(path)
        return out

    def _context(
        self, entry: CrtListEntry, store: CaStore, user: object
    ) -> tuple[ssl.SSLContext, x509.Cert | None]:
        spec = self.spec
        ctx = BindContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.sslobject_class = SniObject
        defaults = self.defaults
        _versions(ctx, spec, defaults, bind=True)
        _ciphers(ctx, spec.ciphers or defaults.ciphers, spec.ciphersuites or defaults.ciphersuites)
        _groups(ctx, spec, defaults)
        if spec.prefer_client_ciphers or defaults.prefer_client_ciphers:
            ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        ctx.options |= ssl.OP_NO_RENEGOTIATION  # ssl_sock_prepare_ctx
        if defaults.cache_size is not None or defaults.lifetime_s:
            try:
                tls_native.set_sessions(ctx, defaults.cache_size, defaults.lifetime_s)
            except tls_native.NativeUnavailableError as exc:
                raise TlsSetupError(f"cannot set the session cache: {exc}") from None
        data = _load_chain(ctx, entry.crt, store, user)
        cert = _first_cert(data)
        if cert is not None:
            ctx.local_key_alg, ctx.local_sig_alg = cert.algorithm, cert.signature
        _dh(ctx, entry.crt, data, ctx.local_key_alg, defaults)
        verify = entry.verify or spec.verify
        ca_file = entry.ca_file or spec.ca_file
        ctx.verify_mode = _VERIFY.get(verify, ssl.CERT_NONE)
        if ca_file is not None:
            try:
                ctx.load_verify_locations(cadata=ca_pem(store, ca_file, bind=True))
            except ssl.SSLError as exc:
                raise TlsSetupError(f"'ca-file' : unable to load {ca_file}") from exc
        elif verify != "none":
            raise TlsSetupError(
                f"verify is enabled but no CA file specified for bind '{spec.where}'."
            )
        if verify != "none":
            self._verifying(ctx, ca_file, store)
        alpn = entry.alpn if entry.alpn is not None else spec.alpn
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        ctx.sni_callback = self._sni
        return ctx, cert

    def _verifying(self, ctx: ssl.SSLContext, ca_file: str | None, store: CaStore) -> None:
        """What a bind that verifies clients adds (ssl_sock_prepare_ctx): the CA names in
        its certificate requests (unless `no-ca-names`), the CRL checks of `crl-file` on
        the whole chain, the errors `ca-ignore-err` / `crt-ignore-err` let through."""
        spec = self.spec
        if ca_file is not None and not spec.no_ca_names:
            entry = store.files.get(ca_file)
            ders = x509.pem_blocks(entry.pem) if entry is not None else []
            if not _native(tls_native.add_client_cas, ctx, ders):
                raise TlsSetupError(f"unable to set CA names from '{ca_file}'")
        if spec.crl_file is not None:
            crl_file(ctx, spec.crl_file)
        if spec.ca_ignore_err or spec.crt_ignore_err:
            try:
                tls_native.ignore_verify_errors(ctx, spec.ca_ignore_err, spec.crt_ignore_err)
            except tls_native.NativeUnavailableError as exc:
                raise TlsSetupError(f"cannot ignore verify errors: {exc}") from None

    def _sni(self, obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> int | None:
        """ssl_sock_switchctx_cbk: the exact name, then the wildcard, else the default;
        with `strict-sni`, no name or no certificate for it ends the handshake with an
        unrecognized_name alert."""
        if isinstance(obj, SniObject):
            obj.sni = name
        if not name:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME if self.spec.strict_sni else None
        low = name.lower()
        ctx = self.exact.get(low)
        if ctx is None and "." in low:
            ctx = self.wild.get(low.split(".", 1)[1])
        if ctx is None and self.spec.strict_sni:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        if ctx is not None and ctx is not obj.context:
            obj.context = ctx
            try:
                tls_native.switched(obj, ctx)
            except tls_native.NativeUnavailableError as exc:
                log.warning("bind %s: %s", self.spec.where, exc)
                return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        return None


def crl_file(ctx: ssl.SSLContext, path: str) -> None:
    """`crl-file`: its CRLs in the context's store, checked for every certificate of the
    peer's chain (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL, as HAProxy sets them
    on binds and servers)."""
    try:
        ctx.load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"unable to configure CRL file '{path}'.") from exc
    ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF | ssl.VERIFY_CRL_CHECK_CHAIN


def _read_crt_list(path: str, crt_base: str | None, ca_base: str | None) -> list[CrtListEntry]:
    """The lines of a crt-list, their relative paths under the global `crt-base` (the
    certificate) and `ca-base` (a `ca-file`), as ssl_crtlist.c crtlist_parse_file does."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as exc:
        raise TlsSetupError(f"cannot open file '{path}' : {exc.strerror}") from exc
    got = parse_crt_list(text, path)
    if isinstance(got, str):
        raise TlsSetupError(got)
    return [
        replace(e, crt=_under(crt_base, e.crt), ca_file=e.ca_file and _under(ca_base, e.ca_file))
        for e in got
    ]


def _under(base: str | None, path: str) -> str:
    return path if base is None or path.startswith("/") else f"{base}/{path}"


class ServerTls:
    """A server's TLS at run time: whether its traffic uses it (`set server B/S ssl`) and
    its client context, built at first use and after a change."""

    __slots__ = (
        "_ctx", "_generation", "_session", "failed", "handshakes", "on", "spec", "use_ssl",
    )  # fmt: skip

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec.tls
        self.use_ssl = spec.use_ssl
        self.on = spec.tls is not None and spec.use_ssl == 1
        self.handshakes = self.failed = 0  # the ssl stats module's ssl_sess / _failed_handshake
        self._ctx: ssl.SSLContext | None = None
        self._generation = -1
        # the last connection's session and the name it was sent (`ssl-reuse`: the next
        # connection resumes it, as ssl_sock keeps srv->ssl_ctx.reused_sess)
        self._session: tuple[str | None, ssl.SSLSession] | None = None

    def set(self, on: bool) -> None:
        """srv_set_ssl."""
        self.use_ssl = 1 if on else 0
        self.on = on and self.spec is not None

    def session(self, sni: str | None) -> ssl.SSLSession | None:
        """A session to resume for a connection sending `sni` (None: a full handshake)."""
        got = self._session
        if got is None or got[0] != sni or (self.spec is not None and self.spec.no_reuse):
            return None
        return got[1]

    def failed_handshake(self) -> None:
        """A handshake to the server failed: counted, and the session kept is dropped, so
        the next attempt (a retry) makes a full handshake instead of offering again what the
        server may be refusing (ssl_sock_handshake's out_error frees reused_sess)."""
        self.failed += 1
        self._session = None

    def keeper(self, sni: str | None) -> Callable[[ssl.SSLSession], None] | None:
        """What keeps a connection's session for the next one (None with `no-ssl-reuse`)."""
        if self.spec is not None and self.spec.no_reuse:
            return None
        generation = self._generation

        def keep(session: ssl.SSLSession) -> None:
            if self._generation == generation:  # not from a context rebuilt since
                self._session = (sni, session)

        return keep

    def context(
        self, store: CaStore, verify_default: str, defaults: TlsDefaults = NO_DEFAULTS
    ) -> ssl.SSLContext:
        """`verify_default`: the global `ssl-server-verify`; `defaults`: the global
        `ssl-default-server-*`."""
        if self._ctx is None or self._generation != store.generation:
            assert self.spec is not None
            self._ctx = server_context(self.spec, verify_default, store, defaults)
            self._generation = store.generation
            self._session = None
        return self._ctx


def server_context(
    tls: TlsServerSpec, verify_default: str, store: CaStore, defaults: TlsDefaults = NO_DEFAULTS
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # HAProxy checks names only with `verifyhost`
    verify = tls.verify if tls.verify is not None else verify_default
    ctx.verify_mode = ssl.CERT_REQUIRED if verify == "required" else ssl.CERT_NONE
    if tls.ca_file is not None:
        try:
            ctx.load_verify_locations(cadata=ca_pem(store, tls.ca_file))
        except ssl.SSLError as exc:
            raise TlsSetupError(f"'ca-file' : unable to load {tls.ca_file}") from exc
    if tls.crl_file is not None and verify == "required":
        crl_file(ctx, tls.crl_file)
    _versions(ctx, tls, defaults, bind=False)
    _ciphers(ctx, tls.ciphers or defaults.ciphers, tls.ciphersuites or defaults.ciphersuites)
    if tls.crt is not None:
        _load_chain(ctx, tls.crt, store, user=("server", id(tls)))
    if tls.alpn:
        ctx.set_alpn_protocols(list(tls.alpn))
    return ctx


def constant_sni(tls: TlsServerSpec | None) -> str | None:
    """The server name of `sni str(NAME)` (the form whose value does not depend on the
    stream); other expressions are evaluated per stream by the caller."""
    if tls is None or tls.sni is None:
        return None
    text = tls.sni
    if text.startswith("str(") and text.endswith(")"):
        return text[4:-1]
    return None
