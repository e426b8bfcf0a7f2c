"""The cyclic garbage collector paused around work it must not interrupt, or would make dear.

A collection stops every thread of the process, the event loop's included, for as long as it
walks the objects of the generations it collects.  Two kinds of work switch it off: the VRRP
driver's wait for a master-down deadline (a collection there would delay the failover), and
reading a large configuration or building the health state of a reload in a worker thread
(hundreds of thousands of objects alive at once: a collection over them stops the loop for
100-400 ms; what survives is collected afterwards in a few ms).  `paused()` nests and may be
entered from several threads: the collector is back on, if it was on, when the last one ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
_was_on = False


@contextlib.contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_on
    with _lock:
        if _depth == 0:
            _was_on = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_on:
                gc.enable()
