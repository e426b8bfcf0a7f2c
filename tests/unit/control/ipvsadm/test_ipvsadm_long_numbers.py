"""Numbers of any length in any ipvsadm option: ipvsadm's answer, never Python's digit limit.

ipvsadm reads numbers with strtol/inet_aton, which report a value out of range however many
digits it has; Python's int() refuses strings of more than 4300 digits (issue 18 item 7).  A
5000-digit number must therefore get exactly the answer a number just out of range gets.
"""

from __future__ import annotations

import re

import pytest

from pylvs.control.ipvsadm.cparse import LONG_MAX, bounded_int, inet_aton, strtol10
from pylvs.control.ipvsadm.messages import Stream
from pylvs.control.ipvsadm.session import Emit, State, run_argv

HUGE = "9" * 5000
JUST_OUT = "9" * 25  # past any C long, well within Python's limit

# Each template has one {} for the number; the service exists for -a/-e/-E/-d.
TEMPLATES = [
    "-A -t 10.0.0.1:{}",
    "-A -u 10.0.0.1:{}",
    "-A --sctp-service 10.0.0.1:{}",
    "-A -t {}:80",
    "-A -t 0x{}:80",
    "-A -t 0{}:80",
    "-A -t 10.{}:80",
    "-A -f {}",
    "-A -t 10.0.0.1:80 -p {}",
    "-A -t 10.0.0.1:80 -p 60 -M {}",
    "-A -t 10.0.0.1:80 -s wrr -b {}",
    "-a -t 10.0.0.5:80 -r 10.0.0.2:{}",
    "-a -t 10.0.0.5:80 -r 10.0.0.2:80 -w {}",
    "-a -t 10.0.0.5:80 -r 10.0.0.2:80 -x {}",
    "-a -t 10.0.0.5:80 -r 10.0.0.2:80 -y {}",
    "-a -t 10.0.0.5:80 -r 10.0.0.2:80 -i --tun-type gue --tun-port {}",
    "-e -t 10.0.0.5:80 -r 10.0.0.9:80 -w {}",
    "-E -t 10.0.0.5:80 -p {}",
    "-d -t 10.0.0.5:80 -r {}",
    "--set {} 0 0",
    "--set 0 {} 0",
    "--set 0 0 {}",
    "--start-daemon master --syncid {}",
    "--start-daemon master --mcast-port {}",
    "--start-daemon master --mcast-ttl {}",
    "--start-daemon master --sync-maxlen {}",
    "--start-daemon master --mcast-group {}",
    "-L -t 10.0.0.5:{}",
    "-Z -f {}",
]


def state() -> State:
    s = State()
    for line in ("-A -t 10.0.0.5:80", "-a -t 10.0.0.5:80 -r 10.0.0.9:80 -m"):
        s = run_argv(["ipvsadm", *line.split()], s).state
    return s


@pytest.mark.parametrize("template", TEMPLATES)
def test_huge_number_gets_the_out_of_range_answer(template: str) -> None:
    before = state()
    huge = run_argv(["ipvsadm", *template.format(HUGE).split()], before)
    out = run_argv(["ipvsadm", *template.format(JUST_OUT).split()], before)
    assert texts(huge.output) == texts(out.output)
    assert (huge.exit_code, huge.state) == (out.exit_code, out.state)
    assert huge.exit_code != 0 or huge.state == before  # refused (or a listing)


def texts(output: tuple[Emit, ...]) -> list[tuple[Stream, str]]:
    """The messages, with the number (which some quote, some cut short) left out."""
    return [(e.stream, re.sub("9{20,}", "N", e.text)) for e in output]


def test_huge_number_in_a_restore_line_is_refused_like_ipvsadm() -> None:
    lines = f"-A -t 10.0.0.1:{HUGE}\n-A -t 10.0.0.2:80\n"
    res = run_argv(["ipvsadm", "-R"], State(), stdin=lines)
    ok = run_argv(["ipvsadm", "-R"], State(), stdin=lines.replace(HUGE, JUST_OUT))
    assert texts(res.output) == texts(ok.output)
    assert res.exit_code == ok.exit_code
    assert res.exit_code != 0


def test_c_parsers_saturate_instead_of_raising() -> None:
    assert strtol10(HUGE) == (LONG_MAX, 5000, True)
    negative = strtol10("-" + HUGE)
    assert negative is not None and negative[2] is True
    assert strtol10("0" * 5000 + "42") == (42, 5002, False)  # leading zeros are not digits
    assert inet_aton(HUGE) is None and inet_aton("0x" + "f" * 5000) is None
    assert inet_aton("0" * 5000 + "1") is not None  # octal zeros, value 1
    assert bounded_int("1" * 5000) > 2**63 and bounded_int("ff", 16) == 255
