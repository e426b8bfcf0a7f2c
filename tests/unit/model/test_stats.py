"""The rate estimator against numbers worked out by hand from ip_vs_est.c.

rate = delta << 9 (conns, packets) or delta << 4 (bytes); avg += (rate - avg) >> 2 with an
arithmetic (floor) shift; read-out (avg + 0x1FF) >> 10 and (avg + 0xF) >> 5.
"""

from pylvs.model.stats import Counters, Estimator, Rates, Stats


def test_first_sample_of_100_conns() -> None:
    c = Counters()
    est = Estimator(c, now=0.0)
    c.conns = 100
    est.tick(2.0)
    # rate = 100 << 9 = 51200; avg = 0 + (51200 - 0) >> 2 = 12800
    assert est.cps == 12800
    # (12800 + 511) >> 10 = 13311 >> 10 = 12  (12.5 conns/s rounds down here)
    assert est.rates().cps == 12


def test_second_and_idle_samples() -> None:
    c = Counters()
    est = Estimator(c, now=0.0)
    c.conns = 100
    est.tick(2.0)
    c.conns = 200
    est.tick(4.0)
    # 12800 + (51200 - 12800) >> 2 = 12800 + 9600
    assert est.cps == 22400
    assert est.rates().cps == 22  # 22911 >> 10
    est.tick(6.0)
    # 22400 + (0 - 22400) >> 2 = 16800 -> (16800 + 511) >> 10 = 16
    assert est.cps == 16800
    assert est.rates().cps == 16


def test_negative_steps_use_the_floor_shift_and_reach_zero() -> None:
    c = Counters()
    est = Estimator(c, now=0.0)
    c.conns = 1
    seen = []
    for i in range(1, 17):
        est.tick(2.0 * i)
        seen.append(est.cps)
    # 512 >> 2 = 128, then avg += (-avg) >> 2, i.e. avg - ceil(avg / 4)
    assert seen == [128, 96, 72, 54, 40, 30, 22, 16, 12, 9, 6, 4, 3, 2, 1, 0]


def test_bytes_and_packets() -> None:
    c = Counters()
    est = Estimator(c, now=10.0)
    c.inbytes = 10000
    c.outbytes = 3
    c.inpkts = 7
    est.tick(12.0)
    # inbps: rate = 10000 << 4 = 160000, avg 40000, (40000 + 15) >> 5 = 1250
    # outbps: rate 48, avg 12, (12 + 15) >> 5 = 0
    # inpps: rate 3584, avg 896, (896 + 511) >> 10 = 1
    assert est.rates() == Rates(cps=0, inpps=1, outpps=0, inbps=1250, outbps=0)


def test_tick_runs_every_elapsed_sample_and_returns_next_deadline() -> None:
    c = Counters()
    est = Estimator(c, now=0.0)
    assert est.tick(1.9) == 2.0
    assert est.cps == 0
    c.conns = 100
    # Two samples are due at 4.0: the first sees +100, the second +0.
    assert est.tick(4.0) == 6.0
    assert est.cps == 12800 + ((0 - 12800) >> 2) == 9600
    assert est.rates().cps == 9  # 10111 >> 10


def test_zero_resets_counters_and_averages() -> None:
    s = Stats(now=0.0)
    s.counters.conns = 100
    s.errors = 3
    s.tick(2.0)
    assert s.rates().cps == 12
    s.zero(now=3.0)
    assert s.values().conns == 0
    assert s.errors == 0
    assert s.rates() == Rates()
    # The next sample is 2 s after the zeroing, and sees only what came after it.
    s.counters.conns = 4
    assert s.tick(4.9) == 5.0
    s.tick(5.0)
    assert s.estimator.cps == (4 << 9) >> 2
