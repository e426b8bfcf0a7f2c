"""The OpenSSL settings HAProxy makes that Python's `ssl` module has no method for: TLS 1.3
cipher suites (`ciphersuites`: SSL_CTX_set_ciphersuites), the key exchange groups (`curves`,
`ecdhe`: SSL_CTX_set1_curves_list), HAProxy's built-in DH groups
(`tune.ssl.default-dh-param`: ssl_sock.c ssl_get_tmp_dh, RFC 7919 ffdhe2048/ffdhe4096), the
CA names a bind sends with its certificate request (SSL_CTX_add_client_CA; Python never
sets them: HAProxy does unless `no-ca-names`), the verify callbacks that let chosen errors
through (`ca-ignore-err` / `crt-ignore-err`: ssl_sock_bind_verifycbk) or check a name, and
the session cache's size and lifetime (`tune.ssl.cachesize`, `tune.ssl.lifetime`).

Each call goes, through ctypes, to the very libssl the `ssl` module is linked with (its
`_ssl` extension is dlopen'ed again: dlsym on that handle finds libssl's symbols among the
extension's dependencies), on the SSL_CTX a Python context wraps.  CPython keeps that
pointer as the first field after the object header (Modules/_ssl.c PySSLContext); that
layout is checked on each context before it is used: SSL_CTX_get_options must read back
the options Python reports, else the setting is refused as unavailable (a clear start-up
error, never a write through a wrong pointer).
"""

from __future__ import annotations

import _ssl
import ctypes
import ssl
from collections.abc import Callable
from functools import cache

# include/openssl/ssl.h
_SSL_CTRL_SET_TMP_DH = 3
_SSL_CTRL_SET_GROUPS_LIST = 92
_SSL_CTRL_SET_SESS_CACHE_SIZE = 42
_SSL_CTRL_SET_SESS_CACHE_MODE = 44
# include/openssl/obj_mac.h
_NID_FFDHE = {2048: 1126, 4096: 1128}
_X509_V_ERR_HOSTNAME_MISMATCH = 62  # include/openssl/x509_vfy.h


class NativeUnavailableError(Exception):
    """This Python's ssl module cannot be reached through ctypes."""


# int (*)(int preverify_ok, X509_STORE_CTX *)
VerifyCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


@cache
def _lib() -> ctypes.CDLL:
    path = getattr(_ssl, "__file__", None)
    try:
        lib = ctypes.CDLL(path)  # None (a built-in _ssl): the process's own symbols
        lib.SSL_CTX_get_options.restype = ctypes.c_uint64
        lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
        lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.SSL_CTX_ctrl.restype = ctypes.c_long
        lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        lib.DH_new_by_nid.restype = ctypes.c_void_p
        lib.DH_new_by_nid.argtypes = [ctypes.c_int]
        lib.DH_free.restype = None
        lib.DH_free.argtypes = [ctypes.c_void_p]
        lib.ERR_clear_error.restype = None
        lib.ERR_clear_error.argtypes = []
        lib.d2i_X509.restype = ctypes.c_void_p
        lib.d2i_X509.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long]
        lib.X509_free.restype = None
        lib.X509_free.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_add_client_CA.restype = ctypes.c_int
        lib.SSL_CTX_add_client_CA.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.SSL_CTX_get_verify_mode.restype = ctypes.c_int
        lib.SSL_CTX_get_verify_mode.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_set_verify.restype = None
        lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, VerifyCallback]
        lib.X509_STORE_CTX_get_error.restype = ctypes.c_int
        lib.X509_STORE_CTX_get_error.argtypes = [ctypes.c_void_p]
        lib.X509_STORE_CTX_get_error_depth.restype = ctypes.c_int
        lib.X509_STORE_CTX_get_error_depth.argtypes = [ctypes.c_void_p]
        lib.SSL_get_SSL_CTX.restype = ctypes.c_void_p
        lib.SSL_get_SSL_CTX.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_get_verify_callback.restype = ctypes.c_void_p
        lib.SSL_CTX_get_verify_callback.argtypes = [ctypes.c_void_p]
        lib.SSL_set_verify.restype = None
        lib.SSL_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.SSL_CTX_get_client_CA_list.restype = ctypes.c_void_p
        lib.SSL_CTX_get_client_CA_list.argtypes = [ctypes.c_void_p]
        lib.SSL_dup_CA_list.restype = ctypes.c_void_p
        lib.SSL_dup_CA_list.argtypes = [ctypes.c_void_p]
        lib.SSL_set_client_CA_list.restype = None
        lib.SSL_set_client_CA_list.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.SSL_CTX_set_timeout.restype = ctypes.c_long
        lib.SSL_CTX_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_long]
        lib.X509_STORE_CTX_get_current_cert.restype = ctypes.c_void_p
        lib.X509_STORE_CTX_get_current_cert.argtypes = [ctypes.c_void_p]
        lib.X509_STORE_CTX_set_error.restype = None
        lib.X509_STORE_CTX_set_error.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.i2d_X509.restype = ctypes.c_int
        lib.i2d_X509.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    except (OSError, AttributeError) as exc:
        raise NativeUnavailableError(f"libssl is not reachable through ctypes: {exc}") from exc
    return lib


def _ssl_ctx(ctx: ssl.SSLContext) -> int:
    """The SSL_CTX pointer of `ctx`, after checking it is one (see the module's text)."""
    lib = _lib()
    ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not ptr:
        raise NativeUnavailableError("no SSL_CTX found in the ssl context")
    before = ctx.options
    ctx.options = before ^ ssl.OP_NO_COMPRESSION  # one bit flipped, then put back
    seen = lib.SSL_CTX_get_options(ptr)
    ctx.options = before
    if seen != int(before ^ ssl.OP_NO_COMPRESSION) or lib.SSL_CTX_get_options(ptr) != before:
        raise NativeUnavailableError("the ssl context's layout is not CPython's")
    return ptr


def set_ciphersuites(ctx: ssl.SSLContext, suites: str) -> bool:
    """SSL_CTX_set_ciphersuites: False when OpenSSL refuses the list."""
    lib = _lib()
    ok = bool(lib.SSL_CTX_set_ciphersuites(_ssl_ctx(ctx), suites.encode()) == 1)
    lib.ERR_clear_error()
    return ok


def set_groups(ctx: ssl.SSLContext, groups: str) -> bool:
    """SSL_CTX_set1_curves_list (the groups a handshake may use, in preference order)."""
    lib = _lib()
    ok = bool(lib.SSL_CTX_ctrl(_ssl_ctx(ctx), _SSL_CTRL_SET_GROUPS_LIST, 0, groups.encode()) == 1)
    lib.ERR_clear_error()
    return ok


def set_ffdhe(ctx: ssl.SSLContext, bits: int) -> bool:
    """SSL_CTX_set_tmp_dh with RFC 7919's ffdhe group of `bits` (2048 or 4096), as
    ssl_get_dh_2048/_4096 give it with OpenSSL >= 1.1.1."""
    lib = _lib()
    ptr = _ssl_ctx(ctx)
    dh = lib.DH_new_by_nid(_NID_FFDHE[bits])
    if not dh:
        lib.ERR_clear_error()
        return False
    try:  # the context takes its own reference (ssl_dh_to_pkey: EVP_PKEY_set1_DH)
        ok = bool(lib.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_TMP_DH, 0, dh) == 1)
    finally:
        lib.DH_free(dh)
        lib.ERR_clear_error()
    return ok


def add_client_cas(ctx: ssl.SSLContext, ders: list[bytes]) -> bool:
    """The subjects of these CA certificates (DER) go in the context's certificate
    requests, as SSL_CTX_set_client_CA_list(ssl_get_client_ca_file(ca_file)) sends them."""
    lib = _lib()
    ptr = _ssl_ctx(ctx)
    for der in ders:
        buf = ctypes.create_string_buffer(der, len(der))
        cursor = ctypes.c_void_p(ctypes.addressof(buf))
        x509 = lib.d2i_X509(None, ctypes.byref(cursor), len(der))
        if not x509:
            lib.ERR_clear_error()
            return False
        try:
            ok = lib.SSL_CTX_add_client_CA(ptr, x509) == 1  # it copies the name
        finally:
            lib.X509_free(x509)
        if not ok:
            lib.ERR_clear_error()
            return False
    return True


def ignore_verify_errors(ctx: ssl.SSLContext, ca: frozenset[int], crt: frozenset[int]) -> None:
    """A verify callback that lets errors `ca` through on the CAs of the peer's chain
    (depth > 0) and errors `crt` on its certificate (ssl_sock_bind_verifycbk); the verify
    mode is kept (Python's verify_mode setter keeps the callback too).  The callback lives
    as long as the context."""

    def verify(ok: int, store: int | None) -> int:
        if ok:
            return 1
        lib = _lib()
        err = lib.X509_STORE_CTX_get_error(store)
        ignored = ca if lib.X509_STORE_CTX_get_error_depth(store) > 0 else crt
        return 1 if err in ignored else 0

    lib = _lib()
    ptr = _ssl_ctx(ctx)
    callback = VerifyCallback(verify)
    ctx.__dict__["_pylvs_verify_callback"] = callback  # kept alive with the context
    lib.SSL_CTX_set_verify(ptr, lib.SSL_CTX_get_verify_mode(ptr), callback)


def verify_name(ctx: ssl.SSLContext, accept: Callable[[bytes], bool]) -> None:
    """A verify callback that also asks `accept` about the peer's certificate (its DER),
    once the chain verified, as ssl_sock_srv_verifycbk checks the server's name at depth
    0; a refusal is X509_V_ERR_HOSTNAME_MISMATCH.  Lives as long as the context."""

    def verify(ok: int, store: int | None) -> int:
        if not ok:
            return 0
        lib = _lib()
        if lib.X509_STORE_CTX_get_error_depth(store) != 0:
            return 1
        cert = lib.X509_STORE_CTX_get_current_cert(store)
        size = lib.i2d_X509(cert, None) if cert else 0
        if size <= 0:
            return 0
        buf = ctypes.create_string_buffer(size)
        cursor = ctypes.c_void_p(ctypes.addressof(buf))
        lib.i2d_X509(cert, ctypes.byref(cursor))
        if accept(buf.raw):
            return 1
        lib.X509_STORE_CTX_set_error(store, _X509_V_ERR_HOSTNAME_MISMATCH)
        return 0

    lib = _lib()
    ptr = _ssl_ctx(ctx)
    callback = VerifyCallback(verify)
    ctx.__dict__["_pylvs_verify_callback"] = callback
    lib.SSL_CTX_set_verify(ptr, lib.SSL_CTX_get_verify_mode(ptr), callback)


def set_sessions(ctx: ssl.SSLContext, cache_size: int | None, lifetime_s: int) -> None:
    """A bind's session cache: `tune.ssl.cachesize` entries (0: none, SSL_SESS_CACHE_OFF,
    as ssl_set_shctx leaves a context without HAProxy's cache) and `tune.ssl.lifetime`
    (SSL_CTX_set_timeout: sessions and TLS 1.3 tickets' lifetime hint)."""
    lib = _lib()
    ptr = _ssl_ctx(ctx)
    if cache_size == 0:
        lib.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_MODE, 0, None)
    elif cache_size is not None:
        lib.SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_SESS_CACHE_SIZE, cache_size, None)
    if lifetime_s:
        lib.SSL_CTX_set_timeout(ptr, lifetime_s)


def switched(obj: ssl.SSLObject, ctx: ssl.SSLContext) -> None:
    """After SNI gave a connection the context `ctx` (`obj.context = ctx`: SSL_set_SSL_CTX,
    which keeps the first context's verify mode and CA names), what ssl_sock_switchctx_set
    also takes from it: its verify mode and callback, its CA names.  The SSL pointer
    follows the object header and the socket weakref in CPython's PySSLSocket; it is used
    only when SSL_get_SSL_CTX gives back `ctx`'s."""
    lib = _lib()
    want = _ssl_ctx(ctx)
    inner = getattr(obj, "_sslobj", None)
    if inner is None:
        raise NativeUnavailableError("no SSL object")
    ssl_ptr = ctypes.c_void_p.from_address(
        id(inner) + object.__basicsize__ + ctypes.sizeof(ctypes.c_void_p)
    ).value
    if not ssl_ptr or lib.SSL_get_SSL_CTX(ssl_ptr) != want:
        raise NativeUnavailableError("the ssl object's layout is not CPython's")
    lib.SSL_set_verify(
        ssl_ptr, lib.SSL_CTX_get_verify_mode(want), lib.SSL_CTX_get_verify_callback(want)
    )
    names = lib.SSL_CTX_get_client_CA_list(want)
    lib.SSL_set_client_CA_list(ssl_ptr, lib.SSL_dup_CA_list(names) if names else None)
