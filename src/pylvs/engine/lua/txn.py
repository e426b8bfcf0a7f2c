"""Lua's TXN and HTTP classes (HAProxy 2.6 src/hlua.c): the sample fetches and converters
a script runs (`txn.f`, `txn.sf`, `txn.c`, `txn.sc`), the variables, the log, and the
request and response a rule is looking at (`txn.http`)."""

from __future__ import annotations

import re
from typing import Any

from pylvs.engine.lua.base import EngineBase, _b, _Call, to_lua, to_smp
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import VarError, parse_var_name


class TxnMixin(EngineBase):
    def _sample(self, ref: int, kind: bytes, name: bytes, strings: bool, *args: Any) -> object:
        call = self.calls.get(ref)
        if call is None:
            return None
        compiler = getattr(self.live.rt.rules, "sample_compiler", None)
        if compiler is None:
            return None
        key = (kind.decode(), name.decode(), tuple(_b(a) for a in args))
        if kind == b"fetch":
            expr = self.compiled.get(key)
            if expr is None:
                expr = compiler("fetch", key[1], key[2])
                if isinstance(expr, str):
                    return None, expr.encode()
                self.compiled[key] = expr
            smp = expr.eval(call.stream)
        else:
            value, rest = (args[0] if args else None), key[2][1:]
            ckey = (key[0], key[1], rest)
            expr = self.compiled.get(ckey)
            if expr is None:
                expr = compiler("conv", key[1], rest)
                if isinstance(expr, str):
                    return None, expr.encode()
                self.compiled[ckey] = expr
            got = expr.convert(call.stream, to_smp(value))
            smp = got if isinstance(got, Smp) else None
        if strings:
            if smp is None:
                return b""
            cast = smp if smp.type in (ty.STR, ty.BIN) else ty.cast(smp, ty.STR)
            return b"" if cast is None else cast.text
        return to_lua(smp)

    def _get_var(self, call: _Call | None, name: bytes) -> object:
        try:
            var = parse_var_name(name.decode())
        except VarError:
            return None
        if call is None:
            if var.scope != "proc":
                return None
            return to_lua(self.live.rt.process.vars.get(var.name))
        scope = call.stream.scope(var.scope)
        return None if scope is None else to_lua(scope.get(var.name))

    def _txn(self, ref: int, what: bytes, *args: Any) -> object:
        call = self.calls.get(ref)
        if call is None:
            return None
        op = what.decode()
        if op == "get_var":
            return self._get_var(call, args[0])
        if op in ("set_var", "unset_var"):
            try:
                var = parse_var_name(_b(args[0]).decode())
            except VarError:
                return False
            scope = call.stream.scope(var.scope)
            if scope is None:
                return False
            if op == "unset_var":
                scope.unset(var.name)
                return True
            ifexist = len(args) > 2 and bool(args[2])
            if ifexist and scope.get(var.name) is None:
                return False
            return bool(scope.set(var.name, to_smp(args[1])))
        if op == "log":
            level, msg = int(args[0]), _b(args[1])
            self._log(call.proxy, 6 if level < 0 else level, msg)
            return None
        if op == "set_loglevel":
            call.stream.log_level = int(args[0])
            return None
        return None

    def _http(self, ref: int, side: bytes, what: bytes, *args: bytes | None) -> object:
        call = self.calls.get(ref)
        if call is None:
            return None
        msg = call.stream.request if side == b"req" else call.stream.response
        if msg is None:
            return None
        op = what.decode()
        if op == "get_headers":
            out: dict[bytes, dict[int, bytes]] = {}
            for n, v in msg.fields:
                values = out.setdefault(n, {})
                values[len(values)] = v
            st = self.states[0]
            return st.table({k: st.table(v) for k, v in out.items()})
        _edit(msg, op, [x for x in args if x is not None])
        return None

    # -- core.* ----------------------------------------------------------------------------

    def _call(self, what: bytes, *args: Any) -> object:
        op = what.decode()
        if op == "get_var":
            return self._get_var(None, args[0])
        if op == "get_info":
            return None
        if op == "pattern":
            verb, file, key = (x.decode() for x in args[:3])
            value = args[3].decode() if len(args) > 3 and args[3] is not None else ""
            words = {
                "set-map": f"set map {file} {key} {value}",
                "del-map": f"del map {file} {key}",
                "add-acl": f"add acl {file} {key}",
                "del-acl": f"del acl {file} {key}",
            }[verb]
            self._cli(words)
        return None


def _edit(msg: HttpMessage, op: str, a: list[bytes]) -> None:
    """txn.http's setters (hlua.c hlua_http_req_set_* and the header functions)."""
    if op == "add_header":
        msg.add(a[0], a[1])
    elif op == "set_header":
        msg.set(a[0], a[1])
    elif op == "del_header":
        wanted = a[0].lower()
        msg.delete(lambda n: n == wanted)
    elif op == "set_method":
        msg.set_start(method=a[0])
    elif op == "set_uri":
        msg.set_start(uri=a[0])
    elif op == "set_path":
        _path, q, query = msg.uri.partition(b"?")
        msg.set_start(uri=a[0] + (q + query if q else b""))
    elif op == "set_query":
        msg.set_start(uri=msg.uri.partition(b"?")[0] + b"?" + a[0])
    elif op == "set_status":
        msg.set_start(status=int(a[0]), reason=a[1] if len(a) > 1 else None)
    elif op in ("rep_header", "rep_value"):
        wanted = a[0].lower()
        rx = re.compile(a[1])
        for i, (n, v) in enumerate(list(msg.fields)):
            if n == wanted:
                msg.replace_at(i, rx.sub(a[2].replace(b"\\", b"\\\\"), v))
