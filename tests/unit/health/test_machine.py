"""The checker retry machines, driven by explicit times (keepalived check_tcp.c `tcp_epilog`,
check_http.c `epilog`; reference §3.12)."""

from pylvs.health.machine import Change, HttpMachine, RetryMachine


def tcp(retry: int = 1, alpha: bool = False) -> RetryMachine:
    return RetryMachine(retry=retry, delay_loop=10.0, delay_before_retry=1.0, alpha=alpha)


def test_healthy_checker_stays_up_every_delay_loop() -> None:
    m = tcp()
    s = m.result(True, 100.0)
    assert (s.change, s.next_at) == (Change.NONE, 110.0)
    s = m.result(True, 110.0)
    assert (s.change, s.next_at) == (Change.NONE, 120.0)
    assert m.is_up


def test_goes_down_on_the_retry_plus_first_consecutive_failure() -> None:
    m = tcp(retry=2)
    m.result(True, 0.0)  # has run, up
    s1 = m.result(False, 10.0)  # 1st failure: retry after delay_before_retry
    assert (s1.change, s1.next_at, s1.retrying) == (Change.NONE, 11.0, True)
    s2 = m.result(False, 11.0)  # 2nd failure: retry again
    assert (s2.change, s2.next_at) == (Change.NONE, 12.0)
    s3 = m.result(False, 12.0)  # 3rd = retry+1: down, then back to delay_loop
    assert (s3.change, s3.next_at) == (Change.DOWN, 22.0)
    s4 = m.result(False, 22.0)  # while down: every delay_loop, no retries
    assert (s4.change, s4.next_at, s4.retrying) == (Change.NONE, 32.0, False)
    s5 = m.result(True, 32.0)
    assert (s5.change, s5.next_at) == (Change.UP, 42.0)


def test_a_success_between_failures_resets_the_retry_count() -> None:
    m = tcp(retry=1)
    m.result(True, 0.0)
    assert m.result(False, 10.0).change is Change.NONE
    assert m.result(True, 11.0).change is Change.NONE
    assert m.result(False, 21.0).change is Change.NONE  # counting starts again
    assert m.result(False, 22.0).change is Change.DOWN


def test_first_failure_of_a_checker_that_never_ran_takes_it_down_at_once() -> None:
    m = tcp(retry=3)
    s = m.result(False, 5.0)
    assert (s.change, s.next_at) == (Change.DOWN, 15.0)


def test_retry_zero_goes_down_on_first_failure_from_up() -> None:
    m = tcp(retry=0)
    m.result(True, 0.0)
    assert m.result(False, 10.0).change is Change.DOWN


def test_alpha_starts_down_and_first_success_brings_it_up() -> None:
    m = tcp(alpha=True)
    assert not m.is_up
    assert m.result(True, 1.0).change is Change.UP


def test_alpha_first_failure_only_re_announces_down() -> None:
    m = tcp(retry=2, alpha=True)
    s = m.result(False, 1.0)
    assert (s.change, s.next_at) == (Change.FIRST_DOWN, 11.0)
    s = m.result(False, 11.0)
    assert (s.change, s.next_at) == (Change.NONE, 21.0)


def http(n: int = 2, retry: int = 1, fast: bool = False, alpha: bool = False) -> HttpMachine:
    return HttpMachine(
        n_urls=n,
        retry=retry,
        delay_loop=10.0,
        delay_before_retry=3.0,
        alpha=alpha,
        fast_recovery=fast,
    )


def test_http_checks_urls_one_after_the_other() -> None:
    m = http()
    assert m.url == 0
    s = m.result(True, 0.0)
    assert (s.change, s.next_at, m.url) == (Change.NONE, 10.0, 1)
    s = m.result(True, 10.0)
    assert (s.change, s.next_at, m.url) == (Change.NONE, 20.0, 0)
    assert m.is_up and m.has_run


def test_http_failed_url_down_then_recovery_rechecks_every_url() -> None:
    m = http()
    m.result(True, 0.0)
    m.result(True, 10.0)
    s = m.result(False, 20.0)  # url 0 fails: retried after delay_before_retry
    assert (s.change, s.next_at, m.url) == (Change.NONE, 23.0, 0)
    s = m.result(False, 23.0)  # retry+1 failures: down; failed URL every max(dbr, loop)
    assert (s.change, s.next_at) == (Change.DOWN, 33.0)
    s = m.result(False, 33.0)  # known dead: no retry
    assert (s.change, s.next_at) == (Change.NONE, 43.0)
    s = m.result(True, 43.0)  # failed URL answers: start again from the first URL
    assert (s.change, s.next_at, m.url) == (Change.NONE, 53.0, 0)
    s = m.result(True, 53.0)
    assert (s.change, m.url) == (Change.NONE, 1)
    s = m.result(True, 63.0)
    assert (s.change, s.next_at) == (Change.UP, 73.0)


def test_http_fast_recovery_checks_the_urls_back_to_back() -> None:
    m = http(fast=True)
    m.result(True, 0.0)  # first run: no delay while not yet run
    m.result(True, 0.0)
    m.result(False, 20.0)
    m.result(False, 23.0)
    s = m.result(True, 33.0)
    assert (s.next_at, m.url) == (33.0, 0)
    s = m.result(True, 33.0)
    assert (s.next_at, m.url) == (33.0, 1)
    s = m.result(True, 33.0)
    assert (s.change, s.next_at) == (Change.UP, 43.0)


def test_http_failure_of_a_later_url_on_the_first_run_is_immediately_down() -> None:
    m = http(retry=2)
    m.result(True, 0.0)
    s = m.result(False, 10.0)
    assert s.change is Change.DOWN


def test_http_alpha_comes_up_after_all_urls_pass() -> None:
    m = http(alpha=True)
    assert m.result(True, 0.0).change is Change.NONE
    assert m.result(True, 10.0).change is Change.UP
