"""Lua's TXN and HTTP classes (HAProxy 2.6 src/hlua.c): the sample fetches and converters
a script runs (`txn.f`, `txn.sf`, `txn.c`, `txn.sc`), the variables, the log, and the
request and response a rule is looking at (`txn.http`)."""

from __future__ import annotations

import re
from typing import Any

from pylvs.engine.lua.base import EngineBase, _b, _Call, to_lua, to_smp
from pylvs.proto.rules import commands as cmd
from pylvs.proto.sample import channel
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.message import HttpMessage, split_values
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
            # vars_set_by_name_ifexist: "only if it exists" holds for proc. variables only
            ifexist = len(args) > 2 and bool(args[2]) and var.scope == "proc"
            if ifexist and scope.get(var.name) is None:
                return False
            return bool(scope.set(var.name, to_smp(args[1])))
        if op == "log":
            level, msg = int(args[0]), _b(args[1])
            self._log(call.proxy, level, msg)
            return None
        if op == "deflog":  # at the stream's log level (0 unless set-log-level ran)
            level = call.stream.log_level if call.stream.log_level is not None else 0
            self._log(call.proxy, level, _b(args[0]))
            return None
        if op == "set_loglevel":
            call.stream.log_level = int(args[0])
            return None
        return self._command(call, op, args)

    def _command(self, call: _Call, op: str, args: tuple[Any, ...]) -> object:
        """What the rules' own actions ask of the driver (set-tos, set-mark, the stream's
        priority), from an action; elsewhere there is no stream to act on: nothing."""
        x = call.exec
        if x is None:
            return None
        n = int(args[0]) if args and isinstance(args[0], int | float) else 0
        if op == "set_tos":
            x.emit(cmd.SetTos(n))
        elif op == "set_mark":
            x.emit(cmd.SetMark(n))
        elif op in ("set_priority_class", "set_priority_offset"):
            bound = 2047 if op.endswith("class") else 524287
            x.emit(cmd.SetPriority(op.rsplit("_", 1)[1], max(-bound, min(bound, n))))
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

    def _chn(self, ref: int, side: bytes, what: bytes, *args: Any) -> object:
        """txn.req / txn.res (channel.py): the stream's channels, made on first use."""
        call = self.calls.get(ref)
        if call is None:
            return None
        s = call.stream
        resp = side == b"res"
        if call.http:  # no byte stream to act on: the lengths, and HAProxy's refusals
            body = b"" if resp else (s.req_body or b"")
            return channel.run(channel.ChannelBuf(resp, bytearray(body)), True, what.decode(), [])
        chns = s.lua_chn
        if not isinstance(chns, channel.Channels) or chns.response_rules != s.in_response:
            chns = s.lua_chn = channel.Channels(response_rules=s.in_response)
            if s.in_response:
                chns.res.sync(s.res_payload)
            else:
                chns.req.sync(s.req_payload)
        op = what.decode()
        if chns.response_rules and not resp and op not in channel.READS:
            return None, b"pylvs does not write to the request channel from tcp-response rules"
        buf = chns.res if resp else chns.req
        got = channel.run(buf, False, op, [bytes(a) if isinstance(a, bytes) else a for a in args])
        if not resp and buf.changed:
            s.req_payload = bytes(buf.data)  # req.payload reads the channel's input
        elif resp and chns.response_rules and buf.changed:
            s.res_payload = bytes(buf.data)
        return got

    # -- core.* ----------------------------------------------------------------------------

    def _call(self, what: bytes, *args: Any) -> object:
        op = what.decode()
        if op == "get_var":
            return self._get_var(None, args[0])
        if op == "get_info":
            return None
        if op == "pattern":  # hlua.c hlua_set_map & co, on the pattern references
            return self._pattern(*(bytes(a) for a in args))
        return None

    def _priv(self, ref: int, setting: bool = False, value: object = None) -> object:
        """txn:get_priv / set_priv: one value per stream, shared by its Lua calls (the
        stream's hlua context holds it)."""
        call = self.calls.get(ref)
        if call is None:
            return None
        if setting:
            call.stream.lua_priv = value
            return None
        return call.stream.lua_priv

    def _pattern(self, verb: bytes, file: bytes, key: bytes, value: bytes = b"") -> object:
        """set_map sets the key or adds it, add_acl adds it when absent, the del_ ones
        delete it; an unknown file is the script's error."""
        what = verb.decode()
        ref = self.live.patterns().lookup(file.decode("utf-8", "replace"))
        if ref is None:
            kind = "map" if what.endswith("map") else "acl"
            return None, b"'%s': unknown %s file '%s'" % (verb, kind.encode(), file)
        if what == "set_map":
            if not ref.set(key, value):
                ref.add(key, value)
        elif what == "add_acl":
            if not any(e.key == key for e in ref):
                ref.add(key)
        else:
            ref.delete(key)
        return True, None


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
        wanted, rx, fmt = a[0].lower(), re.compile(a[1]), a[2]
        for i, (n, v) in enumerate(list(msg.fields)):
            if n != wanted:
                continue
            if op == "rep_header":
                new = _replace(v, rx, fmt)
            else:  # each comma-separated value on its own (http_replace_hdrs' values)
                new = b",".join(_replace(part, rx, fmt) for part in split_values(v))
            if new != v:
                msg.replace_at(i, new)


_BACKREF = re.compile(rb"\\([0-9])")


def _replace(value: bytes, rx: re.Pattern[bytes], fmt: bytes) -> bytes:
    """http_replace_hdrs' exp_replace: a value the regex matches becomes the format with its
    \\N references filled in; a value it does not match stays as it is."""
    m = rx.search(value)
    if m is None:
        return value
    return _BACKREF.sub(
        lambda r: m.group(int(r.group(1))) or b"" if int(r.group(1)) <= (rx.groups) else b"", fmt
    )
