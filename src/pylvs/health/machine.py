"""Pure retry machines of keepalived's health checkers: one probe result in, one step out.

`RetryMachine` is the epilog shared by TCP_CHECK, UDP_CHECK, PING_CHECK, SMTP_CHECK,
DNS_CHECK and MISC_CHECK (keepalived/check/check_tcp.c `tcp_epilog`, check_udp.c
`udp_epilog`, check_ping.c, check_smtp.c `smtp_final`, check_dns.c `dns_final`,
check_misc.c `misc_check_child_thread`); `HttpMachine` is HTTP_GET / SSL_GET's per-URL
machine (check_http.c `epilog` / `timeout_epilog`).  Reference §3.12:

* a checker starts with `retry_it = retry` (check_data.c `validate_check_config`), so the
  first failure of a checker that has never run takes it down at once; alpha checkers start
  down, and their first failure only re-announces the down state (`FIRST_DOWN`);
* from UP, failures are retried every `delay_before_retry` and the checker goes DOWN on the
  (retry+1)-th consecutive failure; while DOWN it is probed every `delay_loop`;
* HTTP: the URLs are checked one after the other, each spaced by `delay_loop`; a failing URL is
  retried, once it has failed `retry`+1 times it is remembered as the failed URL and re-probed
  every max(delay_before_retry, delay_loop); when it passes, every URL is checked again before
  the checker comes back up, immediately one after the other with `fast_recovery`.

Time is an argument: `result(ok, now)` returns the step with the time of the next probe.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Change(enum.Enum):
    NONE = "none"
    UP = "up"  # the checker went up
    DOWN = "down"  # the checker went down
    FIRST_DOWN = "first-down"  # alpha checker's first failure: already down, notify again


@dataclass(frozen=True, slots=True)
class Step:
    change: Change
    next_at: float  # when to probe next
    retrying: bool = False  # the failure will be retried before the checker goes down


class RetryMachine:
    """check_tcp.c `tcp_epilog` (and its twins in the other checkers)."""

    __slots__ = ("delay_before_retry", "delay_loop", "has_run", "is_up", "retry", "retry_it")

    def __init__(
        self, *, retry: int, delay_loop: float, delay_before_retry: float, alpha: bool
    ) -> None:
        self.retry = retry
        self.delay_loop = delay_loop
        self.delay_before_retry = delay_before_retry
        self.is_up = not alpha
        self.has_run = False
        self.retry_it = retry  # validate_check_config: one failure is enough initially

    def result(self, ok: bool, now: float) -> Step:
        delay = self.delay_loop
        change = Change.NONE
        retrying = False
        if ok or ((self.is_up or not self.has_run) and self.retry_it >= self.retry):
            self.retry_it = 0
            if ok and (not self.is_up or not self.has_run):
                change = Change.NONE if self.is_up else Change.UP
                self.is_up = True
            elif not ok and (self.is_up or not self.has_run):
                change = Change.DOWN if self.is_up else Change.FIRST_DOWN
                self.is_up = False
        elif self.is_up:
            delay = self.delay_before_retry
            self.retry_it += 1
            retrying = True
        self.has_run = True
        return Step(change, now + delay, retrying)


class HttpMachine:
    """check_http.c `epilog`: per-URL iteration with a remembered failed URL."""

    __slots__ = (
        "delay_before_retry",
        "delay_loop",
        "failed_url",
        "fast_recovery",
        "has_run",
        "is_up",
        "n_urls",
        "retry",
        "retry_it",
        "url_it",
    )

    def __init__(
        self,
        *,
        n_urls: int,
        retry: int,
        delay_loop: float,
        delay_before_retry: float,
        alpha: bool,
        fast_recovery: bool = False,
    ) -> None:
        if n_urls < 1:
            raise ValueError("HTTP checker without url")
        self.n_urls = n_urls
        self.retry = retry
        self.delay_loop = delay_loop
        self.delay_before_retry = delay_before_retry
        self.fast_recovery = fast_recovery
        self.is_up = not alpha
        self.has_run = False
        self.retry_it = retry
        self.url_it: int | None = 0
        self.failed_url: int | None = None

    @property
    def url(self) -> int:
        """Index of the URL the next probe fetches."""
        return self.url_it if self.url_it is not None else 0

    def result(self, ok: bool, now: float) -> Step:
        if ok:
            return self._epilog("new", now)
        if self.is_up or not self.has_run:  # timeout_epilog
            self.has_run = True
            return self._epilog("retry", now)
        return self._epilog("failed", now)  # do not retry a server already known dead

    def _epilog(self, method: str, now: float) -> Step:
        change = Change.NONE
        if method == "new":
            cur = self.url
            self.url_it = None if cur == self.n_urls - 1 else cur + 1
            self.retry_it = 0
        elif method == "retry":
            self.retry_it += 1
        retrying = method == "retry" and self.retry_it <= self.retry
        if method == "new" and self.url_it is None and self.failed_url is None:
            # every URL passed
            if not self.is_up or not self.has_run:
                change = Change.NONE if self.is_up else Change.UP
                self.is_up = True
                self.has_run = True
            self.url_it = 0
            self.retry_it = 0
        elif method == "retry" and self.retry_it > self.retry:
            if self.is_up:
                change = Change.DOWN
                self.is_up = False
            self.failed_url = self.url
        elif method == "new" and self.failed_url is not None:
            # the failed URL answers again: check all of them before coming back
            self.failed_url = None
            self.url_it = 0
            self.retry_it = 0
        if method == "new":
            delay = self.delay_loop
            if not self.has_run:
                self.retry_it = self.retry
        elif self.failed_url is not None:
            delay = max(self.delay_before_retry, self.delay_loop)
        else:
            delay = self.delay_before_retry
        if self.fast_recovery and (
            not self.has_run or (not self.is_up and self.failed_url is None)
        ):
            delay = 0.0
        return Step(change, now + delay, retrying)


Machine = RetryMachine | HttpMachine
