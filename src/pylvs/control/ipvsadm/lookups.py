"""Name look-ups with a bound: the daemon's `Resolver` never waits long for the host's resolver.

ipvsadm asks gethostbyname / gethostbyaddr / getservby* inline and simply waits; a director
whose DNS server never answers then stalls for the resolver's timeouts (5 s x attempts per
name).  Inside the daemon that wait used to be the event loop's: `pylvs ipvsadm -L` without
`-n` stopped all forwarding for 20 s (issue 18 item 12).  Here each look-up runs in a small
pool of worker threads of its own; the caller (itself never the event loop: the daemon parses
and renders in worker threads, engine/ipvsadm_work.py) waits at most `timeout` for one answer
and at most `budget` for all the answers of one request; past that a name counts as unknown,
which is what ipvsadm prints or says for a name it cannot resolve (the numeric address, or
"illegal ... address").  Answers are cached (`ttl`, `negative_ttl`); a look-up still running
when its caller gave up finishes in the background and fills the cache for the next request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pylvs.control.ipvsadm.resolver import Resolver

Key = tuple[str, tuple[Any, ...]]
MAX_CACHED = 65_536


class BoundedLookups:
    def __init__(
        self,
        base: Resolver,
        *,
        timeout: float = 2.0,
        budget: float = 4.0,
        workers: int = 4,
        ttl: float = 60.0,
        negative_ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.timeout = timeout
        self.budget = budget
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pylvs-lookup")
        self._lock = threading.Lock()
        self._cache: dict[Key, tuple[float, Any]] = {}  # key -> (expires, answer)
        self._running: dict[Key, Future[Any]] = {}
        self.timeouts = 0  # look-ups a caller stopped waiting for

    def request(self) -> Resolver:
        """A Resolver for one request: its look-ups share one deadline."""
        deadline = self.clock() + self.budget
        return Resolver(
            host_to_ipv4=lambda name: self._ask("host", self.base.host_to_ipv4, deadline, name),
            service_to_port=lambda name, proto: self._ask(
                "service", self.base.service_to_port, deadline, name, proto
            ),
            addr_to_host=lambda addr: self._ask("addr", self.base.addr_to_host, deadline, addr),
            port_to_service=lambda port, proto: self._ask(
                "port", self.base.port_to_service, deadline, port, proto
            ),
        )

    def cached(self) -> Resolver:
        """Answers from the cache only, never waiting (what a request on the loop may use)."""
        return Resolver(
            host_to_ipv4=lambda name: self._peek("host", name),
            service_to_port=lambda name, proto: self._peek("service", name, proto),
            addr_to_host=lambda addr: self._peek("addr", addr),
            port_to_service=lambda port, proto: self._peek("port", port, proto),
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- internals ---------------------------------------------------------------------

    def _peek(self, kind: str, *args: Any) -> Any:
        with self._lock:
            hit = self._cache.get((kind, args))
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        return None

    def _ask(self, kind: str, fn: Callable[..., Any], deadline: float, *args: Any) -> Any:
        key: Key = (kind, args)
        now = self.clock()
        wait = min(self.timeout, deadline - now)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            future = self._running.get(key)
            started = future is None and wait > 0
            if started:
                future = self._pool.submit(fn, *args)
                self._running[key] = future
        if future is None:  # no time left, and nobody is asking already
            self.timeouts += 1
            return None
        if started:  # outside the lock: a look-up already done runs the callback right here
            future.add_done_callback(lambda f: self._store(key, f))
        try:
            answer = future.result(timeout=max(wait, 0.0))
        except FutureTimeout:
            self.timeouts += 1
            return None
        except Exception:  # the base resolver answers None for failures; anything else too
            answer = None
        # Cached now, not only by the done-callback (which may run a moment later): the
        # request's next step may read the cache only.
        self._remember(key, answer)
        return answer

    def _store(self, key: Key, future: Future[Any]) -> None:
        try:
            answer = None if future.cancelled() or future.exception() else future.result()
        except Exception:
            answer = None
        self._remember(key, answer)

    def _remember(self, key: Key, answer: Any) -> None:
        now = self.clock()
        expires = now + (self.ttl if answer is not None else self.negative_ttl)
        with self._lock:
            self._running.pop(key, None)
            if len(self._cache) >= MAX_CACHED:  # drop what expired; if nothing did, start over
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
                if len(self._cache) >= MAX_CACHED:
                    self._cache.clear()
            self._cache[key] = (expires, answer)
