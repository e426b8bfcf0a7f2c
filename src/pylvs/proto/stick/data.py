"""What a stick-table entry can store (`store ...`), and the frequency counters behind rates.

The data types and their order are HAProxy 2.6's (src/stick_table.c stktable_data_types, in
enum order: `show table` prints an entry's data in this order): signed `server_id`, unsigned
counters (`gpc0`, `conn_cnt`, `conn_cur`, `http_req_cnt`, ...), 64-bit byte counts, the
server's name (`server_key`), and rates over a period (`conn_rate(<period>)`,
`http_req_rate(<period>)`, `gpc0_rate(<period>)`, ...), which are frequency counters.  The
array types of 2.6 (`gpt`, `gpc`, `gpc_rate` with an element count) are not kept: none of the
rules pylvs runs feeds them, and the parser refuses them rather than ignore them.

`FreqCtr` is src/freq_ctr.c's: events counted in the current period and the previous one, read
as `past * remain / period + current` (update_freq_ctr_period, freq_ctr_total,
read_freq_ctr_period), with the clock in milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    SINT = "sint"  # signed 32-bit
    UINT = "uint"  # unsigned 32-bit
    ULL = "ull"  # unsigned 64-bit
    FRQP = "frqp"  # frequency counter over a period
    DICT = "dict"  # a string (server name)


@dataclass(frozen=True, slots=True)
class DataType:
    name: str
    kind: Kind

    @property
    def takes_period(self) -> bool:
        return self.kind is Kind.FRQP


_ORDER = (
    ("server_id", Kind.SINT),
    ("gpt0", Kind.UINT),
    ("gpc0", Kind.UINT),
    ("gpc0_rate", Kind.FRQP),
    ("conn_cnt", Kind.UINT),
    ("conn_rate", Kind.FRQP),
    ("conn_cur", Kind.UINT),
    ("sess_cnt", Kind.UINT),
    ("sess_rate", Kind.FRQP),
    ("http_req_cnt", Kind.UINT),
    ("http_req_rate", Kind.FRQP),
    ("http_err_cnt", Kind.UINT),
    ("http_err_rate", Kind.FRQP),
    ("bytes_in_cnt", Kind.ULL),
    ("bytes_in_rate", Kind.FRQP),
    ("bytes_out_cnt", Kind.ULL),
    ("bytes_out_rate", Kind.FRQP),
    ("gpc1", Kind.UINT),
    ("gpc1_rate", Kind.FRQP),
    ("server_key", Kind.DICT),
    ("http_fail_cnt", Kind.UINT),
    ("http_fail_rate", Kind.FRQP),
)
DATA_TYPES: dict[str, DataType] = {name: DataType(name, kind) for name, kind in _ORDER}
ORDER = {name: i for i, (name, _) in enumerate(_ORDER)}
ARRAY_TYPES = frozenset({"gpt", "gpc", "gpc_rate"})
_MASKS = {Kind.SINT: 0xFFFFFFFF, Kind.UINT: 0xFFFFFFFF, Kind.ULL: 0xFFFFFFFFFFFFFFFF}


def data_type(name: str) -> DataType | None:
    """stktable_get_data_type (`server_name` is the old name of `server_key`)."""
    if name == "server_name":
        name = "server_key"
    return DATA_TYPES.get(name)


def wrap(kind: Kind, value: int) -> int:
    """A value stored in a C field of the kind (two's complement for the signed one)."""
    masked = value & _MASKS[kind]
    if kind is Kind.SINT and masked & 0x80000000:
        return masked - (1 << 32)
    return masked


class FreqCtr:
    """struct freq_ctr: events in the current period and the previous one (ms ticks)."""

    __slots__ = ("curr_ctr", "curr_tick", "prev_ctr")

    def __init__(self) -> None:
        self.curr_tick = 0
        self.curr_ctr = 0
        self.prev_ctr = 0

    def update(self, period: int, inc: int, now_ms: int) -> int:
        """update_freq_ctr_period: count `inc` events now (rotating periods as needed)."""
        if now_ms - self.curr_tick < period:
            self.curr_ctr += inc
            return self.curr_ctr
        self.prev_ctr, self.curr_ctr = self.curr_ctr, inc
        self.curr_tick += period
        if now_ms - self.curr_tick >= period:  # at least two periods went by
            self.prev_ctr = 0
            self.curr_tick = now_ms
        return inc

    def set(self, value: int, now_ms: int) -> None:
        """`set table ... data.<rate> <v>`: a steady rate over the whole current period."""
        self.curr_tick = now_ms & ~1
        self.prev_ctr = 0
        self.curr_ctr = value & 0xFFFFFFFF

    def total(self, period: int, now_ms: int, pend: int) -> int:
        """freq_ctr_total (src/freq_ctr.c): the events over the last period times the
        period, `pend` more counted as if now (pend < 0: none, with the flapping
        correction at very low rates)."""
        curr, past = self.curr_ctr, self.prev_ctr
        remain = self.curr_tick + period - now_ms
        if remain < 0:
            remain += period
            past = curr if remain >= 0 else 0
            curr = 0
        if pend < 0:
            pend = 0
            if not curr and past <= 1:
                return past * period
        return past * remain + (curr + pend) * period

    def remain(self, period: int, freq: int, pend: int, now_ms: int) -> int:
        """freq_ctr_remain_period (include/haproxy/freq_ctr.h): how many more events may
        come now without passing `freq` per period (0: the limit is reached)."""
        avg = self.total(period, now_ms, pend) // period
        return freq - min(avg, freq)

    def next_event_delay(self, period: int, freq: int, pend: int, now_ms: int) -> int:
        """next_event_delay_period: the milliseconds until one more event keeps within
        `freq` per period (0: now; else at least 1)."""
        total = self.total(period, now_ms, pend)
        limit = freq * period
        if total < limit:
            return 0
        return max((total - limit) // (freq or 1), 1)

    def read(self, period: int, now_ms: int) -> int:
        """read_freq_ctr_period: the events over the last period."""
        curr, past = self.curr_ctr, self.prev_ctr
        remain = self.curr_tick + period - now_ms
        if remain < 0:
            remain += period
            past = curr if remain >= 0 else 0
            curr = 0
        if not curr and past <= 1:  # flapping correction at very low rates
            return past
        return (past * remain + curr * period) // period
