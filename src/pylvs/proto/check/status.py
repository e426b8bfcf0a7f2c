"""HAProxy 2.6's check statuses, results and health-analysis codes, with their texts.

`Status` is enum healthcheck_status (include/haproxy/check-t.h), defined with the stats in
model/proxies.py (`CheckStatus`): the short name the stats print (`L4OK`, `L7STS`, ...), the
description the log lines and `check_desc` print ("Layer4 connection problem") and the
result it implies (CHK_RES_*, `Result` here).  The numbers are HAProxy's.

`Analyze` is the HANA_STATUS_* set that `observe layer4|layer7` feeds (src/check.c
analyze_statuses[]): which of them count as an error or a success in each mode.
"""

from __future__ import annotations

import enum

from pylvs.model.proxies import CheckStatus


class Result(enum.IntEnum):
    """enum chk_result: what a finished check says about the server."""

    UNKNOWN = 0
    NEUTRAL = 1  # a valid check without status information (no state change)
    FAILED = 2
    PASSED = 3
    CONDPASS = 4  # passed, but the server asks not to get new sessions (stopping)


# enum healthcheck_status, with its texts and results: one definition for the checks and the
# stats that show them (model/proxies.py).
Status = CheckStatus


def result_of(status: Status) -> Result:
    """check_statuses[status].result."""
    return Result(status.result)


# The names `ok-status`, `error-status` and `tout-status` accept (src/tcpcheck.c
# parse_tcpcheck_expect), case-insensitively.
OK_STATUSES = {"L7OK": Status.L7OKD, "L7OKC": Status.L7OKCD}
OK_STATUSES |= {"L6OK": Status.L6OK, "L4OK": Status.L4OK}
ERROR_STATUSES = {"L7RSP": Status.L7RSP, "L7STS": Status.L7STS, "L7OKC": Status.L7OKCD}
ERROR_STATUSES |= {"L6RSP": Status.L6RSP, "L4CON": Status.L4CON}
TIMEOUT_STATUSES = {"L7TOUT": Status.L7TOUT, "L6TOUT": Status.L6TOUT, "L4TOUT": Status.L4TOUT}


class Observe(enum.IntEnum):
    """`observe` (HANA_OBS_*)."""

    NONE = 0
    LAYER4 = 1
    LAYER7 = 2


class OnError(enum.IntEnum):
    """`on-error` (HANA_ONERR_*)."""

    FASTINTER = 1
    FAIL_CHECK = 2
    SUDDEN_DEATH = 3
    MARK_DOWN = 4


ON_ERROR = {
    "fastinter": OnError.FASTINTER,
    "fail-check": OnError.FAIL_CHECK,
    "sudden-death": OnError.SUDDEN_DEATH,
    "mark-down": OnError.MARK_DOWN,
}


class Analyze(enum.IntEnum):
    """HANA_STATUS_*: what the traffic to a server showed (`observe`)."""

    UNKNOWN = 0
    L4_OK = 1
    L4_ERR = 2
    HTTP_OK = 3
    HTTP_STS = 4
    HTTP_HDRRSP = 5
    HTTP_RSP = 6
    HTTP_READ_ERROR = 7
    HTTP_READ_TIMEOUT = 8
    HTTP_BROKEN_PIPE = 9

    @property
    def description(self) -> str:
        return _ANALYZE[self][0]

    def verdict(self, mode: Observe) -> bool | None:
        """True: an error, False: a success, None: ignored, for `observe <mode>`."""
        code = _ANALYZE[self][1][mode - 1] if mode else 0
        return None if code == 0 else code == 1


# description, (layer4, layer7): 0 ignore, 1 error, 2 OK (analyze_statuses[])
_ANALYZE: dict[Analyze, tuple[str, tuple[int, int]]] = {
    Analyze.UNKNOWN: ("Unknown", (0, 0)),
    Analyze.L4_OK: ("L4 successful connection", (2, 0)),
    Analyze.L4_ERR: ("L4 unsuccessful connection", (1, 1)),
    Analyze.HTTP_OK: ("Correct http response", (0, 2)),
    Analyze.HTTP_STS: ("Wrong http response", (0, 1)),
    Analyze.HTTP_HDRRSP: ("Invalid http response (headers)", (0, 1)),
    Analyze.HTTP_RSP: ("Invalid http response", (0, 1)),
    Analyze.HTTP_READ_ERROR: ("Read error (http)", (0, 1)),
    Analyze.HTTP_READ_TIMEOUT: ("Read timeout (http)", (0, 1)),
    Analyze.HTTP_BROKEN_PIPE: ("Close from server (http)", (0, 1)),
}


def http_analyze(status: int) -> Analyze:
    """What an HTTP response status tells `observe layer7` (src/http_ana.c: 100-499, 501 and
    505 are valid answers, anything else a wrong one)."""
    if 100 <= status < 500 or status in (501, 505):
        return Analyze.HTTP_OK
    return Analyze.HTTP_STS
