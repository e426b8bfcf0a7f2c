"""The OpenSSL settings HAProxy makes that Python's `ssl` module has no method for: TLS 1.3
cipher suites (`ciphersuites`: SSL_CTX_set_ciphersuites), the key exchange groups (`curves`,
`ecdhe`: SSL_CTX_set1_curves_list) and HAProxy's built-in DH groups
(`tune.ssl.default-dh-param`: ssl_sock.c ssl_get_tmp_dh, RFC 7919 ffdhe2048/ffdhe4096).

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
from functools import cache

# include/openssl/ssl.h
_SSL_CTRL_SET_TMP_DH = 3
_SSL_CTRL_SET_GROUPS_LIST = 92
# include/openssl/obj_mac.h
_NID_FFDHE = {2048: 1126, 4096: 1128}


class NativeUnavailableError(Exception):
    """This Python's ssl module cannot be reached through ctypes."""


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
