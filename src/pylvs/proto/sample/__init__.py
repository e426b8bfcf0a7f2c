"""HAProxy 2.6's samples, sans I/O: values and casts, fetches, converters, patterns.

    types.py        Smp, the SMP_T_* types and sample.c's cast matrix
    expr.py         compiled expressions (fetch + converters), the registries, CompileContext
    stream.py       what fetches read: Process, Session, Stream (time is an argument)
    message.py      HttpMessage: the start line and header list rules read and edit
    vars.py         set-var / unset-var / var() scopes and conditions
    pattern.py      ACL match methods and map lookups; pattern_ref.py: shared -f / map files
    fetch_*.py      fetches: internal/constant, layer 4, HTTP, stick counters, TLS
    conv_*.py       converters: strings/encodings, arithmetic/hashes, maps, misc, FIX, MQTT

Importing the package registers every fetch and converter; `expr.compile_sample` turns a
parsed expression (config/haproxy's Sample) into an `Expr` to run with `eval(stream)`.
"""

from pylvs.proto.sample import (  # noqa: F401  (registration)
    conv_arith,
    conv_fix,
    conv_map,
    conv_misc,
    conv_mqtt,
    conv_string,
    fetch_http,
    fetch_http_args,
    fetch_internal,
    fetch_l4,
    fetch_payload,
    fetch_rawhttp,
    fetch_ssl,
    fetch_stick,
)
from pylvs.proto.sample.expr import CompileContext, CompileError, Expr, compile_sample
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.stream import Process, ProxyRef, ServerRef, Session, Stream
from pylvs.proto.sample.types import Smp

__all__ = [
    "CompileContext",
    "CompileError",
    "Expr",
    "HttpMessage",
    "Process",
    "ProxyRef",
    "ServerRef",
    "Session",
    "Smp",
    "Stream",
    "compile_sample",
]
