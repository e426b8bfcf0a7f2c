"""`http-request cache-use NAME` and `http-response cache-store NAME` (HAProxy 2.6 src/cache.c
http_action_req_cache_use, http_action_store_cache; the rules: proto/cache/).

Both go on with the rule set (ACT_RET_CONT).  cache-use keys the request, counts a lookup
and, on a hit, a hit (on the frontend's counters when the rule is the frontend's, else the
backend's) and leaves the entry on the stream; the cache applet is then the stream's target
(as `use-service` makes one: the set's end is a `Service` verdict, the switching rules do
not run after a frontend's hit) and the driver answers from the entry instead of a server
(dataplane/haproxy/http/cache.py), through the response rules.  A miss keeps the key
(and with `process-vary on` the full secondary key) for cache-store, which opens an entry
with the response's head as the rules left it so far; the driver adds the body as it is
forwarded and completes the entry at its end.  The caches live on the process
(`Process.caches`, one `store.HttpCache` per section).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.proto.cache import rules, vary
from pylvs.proto.cache.store import Entry, HttpCache, head_size
from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.sample.stream import Stream

CACHE_SERVICE = "<cache>"  # the applet a hit makes the stream's target (txn.service)


@dataclass(slots=True)
class CacheState:
    """What the cache actions left on a stream (parts of struct http_txn: cache_hash,
    cache_secondary_hash, TX_CACHE_*; the cache applet as the stream's target)."""

    facts: rules.RequestFacts | None = None
    secondary: bytes | None = None  # TX_CACHE_HAS_SEC_KEY when set
    hit: Entry | None = None  # the entry answering (res.cache_hit)
    hit_cache: str = ""  # its cache (res.cache_name)
    not_modified: bool = False  # answer 304 instead
    # (proxy, counted on the frontend, a hit): each lookup, for cache_lookups/cache_hits
    counted: list[tuple[str, bool, bool]] = field(default_factory=list)
    storing: tuple[HttpCache, Entry] | None = None  # the entry cache-store opened
    store_proxy: str = ""  # the proxy whose cache-store opened it (its filter's place)


def state(s: Stream) -> CacheState:
    got = s.cache_state
    if not isinstance(got, CacheState):
        got = s.cache_state = CacheState()
    return got


def _cache(s: Stream, name: str) -> HttpCache | None:
    got = s.process.caches.get(name)
    return got if isinstance(got, HttpCache) else None


@dataclass(frozen=True, slots=True)
class CacheUse:
    name: str

    def run(self, x: Exec) -> Ret:
        s = x.stream
        cache = _cache(s, self.name)
        req = s.request
        if cache is None or req is None:
            return Ret.CONT
        st = state(s)
        facts = rules.request_facts(req.method, req.version == b"HTTP/1.1", req.uri, req.fields)
        st.facts = facts
        if facts.key is None or facts.ignore:
            return Ret.CONT
        now = cache.seconds(s.now)
        got = cache.lookup(facts.key, now)
        first = got[0] if got else None
        entry: Entry | None = None
        if first is not None and first.complete:
            if first.signature:
                st.secondary = vary.secondary_key(req.fields, first.signature)
                entry = cache.find(facts.key, st.secondary, now) if st.secondary else None
            else:
                entry = first
        elif cache.spec.process_vary:
            st.secondary = vary.secondary_key(req.fields, vary.ALL)
        fe = x.proxy == s.frontend.name
        st.counted.append((x.proxy, fe, entry is not None))
        if entry is not None:  # the cache applet answers once the rule set ends
            x.txn.service = CACHE_SERVICE
            if fe:
                x.txn.intercepted = True  # http_process_req_common: "fe == s->be"
            cache.used_now(entry)
            st.hit, st.hit_cache = entry, cache.spec.name
            st.not_modified = rules.not_modified(req.fields, entry.etag, entry.modified)
        return Ret.CONT


@dataclass(frozen=True, slots=True)
class CacheStore:
    name: str

    def run(self, x: Exec) -> Ret:
        s = x.stream
        cache = _cache(s, self.name)
        st = s.cache_state
        res = s.response
        if cache is None or not isinstance(st, CacheState) or res is None:
            return Ret.CONT
        facts = st.facts  # the request's, as cache-use saw it (txn->meth, cache_hash)
        if st.hit is not None or facts is None or not facts.version_11:
            return Ret.CONT
        now = cache.seconds(s.now)
        if facts.method != b"GET":
            if facts.key is not None and rules.unsafe_invalidates(facts.method, res.status):
                cache.drop_key(facts.key, now)
            return Ret.CONT
        if facts.key is None or res.status != 200 or st.storing is not None:
            return Ret.CONT
        entry = _entry(cache, st, res.fields, facts, status=res.status, now=now)
        if entry is None:
            return Ret.CONT
        entry.version, entry.reason = res.version, res.reason
        code = b"%d" % res.status
        removed = len(res.fields) - len(entry.fields)  # Age: an unused block in the row
        size = head_size(res.version, code, res.reason, entry.fields, removed)
        if length := _length(res.fields):
            size += 4 + length  # HTTP_MSGF_CNT_LEN: the whole object known now
        request = vary.reduce(st.secondary, entry.signature) if st.secondary else None
        if size > cache.spec.max_object_size or not cache.begin(entry, now, request):
            return Ret.CONT
        if entry.age:  # the origin's Age leaves the response too (http_remove_header)
            res.delete(lambda name: name == b"age")
        if not cache.append(entry, head_size(res.version, code, res.reason, entry.fields, removed)):
            return Ret.CONT
        st.storing = (cache, entry)
        st.store_proxy = x.proxy
        return Ret.CONT


def _length(fields: list[tuple[bytes, bytes]]) -> int:
    got = rules.first_full(fields, b"content-length")
    return int(got) if got is not None and got.isdigit() else 0


def _entry(
    cache: HttpCache,
    st: CacheState,
    fields: list[tuple[bytes, bytes]],
    facts: rules.RequestFacts,
    *,
    status: int,
    now: int,
) -> Entry | None:
    """The entry a response makes, or None when it is not stored (Vary, cacheability, Age,
    an unknown Content-Encoding under Vary)."""
    assert facts.key is not None
    secondary = b"\0" * vary.KEY_LEN
    sig = 0
    if cache.spec.process_vary:
        got = vary.signature(fields)
        if got is None:
            return None
        sig = got
        if sig:
            if st.secondary is None:
                return None
            secondary = vary.reduce(st.secondary, sig)
    elif rules.values(fields, b"vary"):
        return None
    if not rules.response_cacheable(status, fields, facts.cacheable, facts.cookie_ok):
        return None
    life, own = rules.max_age(fields, cache.spec.max_age, now)
    age = 0
    ages = rules.values(fields, b"age")
    if ages:
        text = ages[0]
        if not text.lstrip(b"+-").isdigit() or int(text) <= 0:
            return None
        age = min(int(text), 2147483648)
        if age > own:
            return None
    kept = tuple((n, v) for n, v in fields if n != b"age")
    if sig:
        with_enc = vary.with_encoding(secondary, kept)
        if with_enc is None:
            return None
        secondary = with_enc
    etag = rules.first_full(kept, b"etag")
    return Entry(
        key=facts.key,
        secondary=secondary,
        signature=sig,
        version=b"HTTP/1.1",
        status=status,
        reason=b"",
        fields=kept,
        expire=now + life,
        validated=now,
        age=age,
        modified=rules.last_modified(kept, now),
        etag=etag,
    )
