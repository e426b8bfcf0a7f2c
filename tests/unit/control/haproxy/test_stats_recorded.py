"""control/haproxy against the real HAProxy 2.6.12's stats socket and stats page.

tests/data/haproxy/stats/transcript.json was recorded by capture.py beside it: one config
(capture.py's SPEC), then every step of steps.py on the real haproxy.  Here a FakeRuntime with
the same proxies answers the same steps, in order, through CliSession (the stats socket) and
web.handle (the page), and each answer is compared with HAProxy's:

* byte for byte (`exact`): every message, error, refusal, `help` and unknown-command answer,
  `get weight`, `show backend`, `show cli *`, `show table`, prompts and pipelining, the 303s,
  401s, 503s and the 400 of the page;
* field by field where a value differs by nature -- the age of a state (`lastchg`,
  `downtime`, `srv_time_since_last_change`), how many checks have failed so far and how long
  the last one took (`chkfail`, `chkdown`, `check_duration`), the connection pool's estimate
  (`need_conn_est`), the stream's internal flags and addresses in `show sess`, the clock in
  `show errors`; the process values of `show info` are the runtime's own, taken from
  HAProxy's answer, so there every line but the uptime is compared whole.
* The HTML page: its tables (every row, cell and hover box) byte for byte once the ages and
  check counts are masked, and its display options; the style sheet is pylvs's own.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.unit.control.haproxy.stats_replay import RECORDED, Replay

# The proxies serving the recorded page requests: their own traffic counters differ by
# nature (the replay makes no connections; pylvs's page is another size).
PAGE_PROXIES = {"stats", "stats2"}
PAGE_IIDS = {i + 2 for i, p in enumerate(RECORDED["spec"]["proxies"]) if p["name"] in PAGE_PROXIES}
PAGE_KEYS = {"pxname", "svname", "status", "slim", "pid", "iid", "sid", "type", "mode", "algo"}
VOLATILE_COLUMNS = {
    "lastchg",
    "downtime",
    "chkfail",
    "chkdown",
    "check_duration",
    "need_conn_est",
}
_REPLAY = Replay()
_ANSWERS: dict[int, str] = {}


def _answers() -> dict[int, str]:
    """Every step's pylvs answer, computed once in order (the steps change the state)."""
    if not _ANSWERS:
        for i, step in enumerate(RECORDED["steps"]):
            fn = _REPLAY.cli if step["op"] == "cli" else _REPLAY.page
            _ANSWERS[i] = fn(step)
    return _ANSWERS


def _stat_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    lines = text.rstrip("\n").split("\n")
    if not lines or not lines[0].startswith("# "):
        return [], []
    header = lines[0][2:].split(",")
    rows = []
    for line in lines[1:]:
        if not line:
            continue
        cells = line.split(",")
        rows.append({h: c.removeprefix("* ") for h, c in zip(header, cells, strict=False)})
    return header, rows


def compare_stat(ours: str, theirs: str) -> None:
    h1, r1 = _stat_rows(ours)
    h2, r2 = _stat_rows(theirs)
    assert h1 == h2
    assert [(r["pxname"], r["svname"]) for r in r1] == [(r["pxname"], r["svname"]) for r in r2]
    for a, b in zip(r1, r2, strict=True):
        keys = PAGE_KEYS if a["pxname"] in PAGE_PROXIES else a.keys() - VOLATILE_COLUMNS
        diff = {k: (a[k], b[k]) for k in keys if a[k] != b[k]}
        assert not diff, f"{a['pxname']}/{a['svname']}: {diff}"


def _typed(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if ":" not in line or not re.match(r"[FBLS]\.", line):
            out.append((line, ""))  # a message, not a field
            continue
        key, rest = line.split(":", 1)
        name = key.split(".")[4]
        if int(key.split(".")[1]) in PAGE_IIDS and name not in PAGE_KEYS:
            rest = rest.rsplit(":", 1)[0]
        rest = re.sub(r"^(\w+:\w+:)\* ", r"\1", rest)
        out.append((key, "" if name in VOLATILE_COLUMNS else rest))
    return out


def compare_typed(ours: str, theirs: str) -> None:
    assert _typed(ours) == _typed(theirs)


def _json_rows(text: str) -> list[Any]:
    rows: list[Any] = json.loads(text)
    for row in rows:
        for f in row:
            page = f["proxyId"] in PAGE_IIDS and f["field"]["name"] not in PAGE_KEYS
            if page or f["field"]["name"] in VOLATILE_COLUMNS:
                f["value"]["value"] = None
            elif f["value"]["type"] == "str":
                f["value"]["value"] = f["value"]["value"].removeprefix("* ")
    return rows


def compare_json(ours: str, theirs: str) -> None:
    assert _json_rows(ours) == _json_rows(theirs)


def compare_info(ours: str, theirs: str) -> None:
    def lines(text: str) -> list[str]:
        return [re.sub(r"^(\d+\.)?(Uptime(_sec)?)([.:]).*", r"\1\2", x) for x in text.splitlines()]

    assert lines(ours) == lines(theirs)


def compare_info_json(ours: str, theirs: str) -> None:
    def fields(text: str) -> list[Any]:
        items: list[Any] = json.loads(text)
        for f in items:
            if f["field"]["name"].startswith("Uptime"):
                f["value"]["value"] = None
        return items

    assert fields(ours) == fields(theirs)


def compare_state(ours: str, theirs: str) -> None:
    def rows(text: str) -> list[list[str]]:
        out = [line.split(" ") for line in text.splitlines()]
        for row in out[2:]:
            if len(row) > 9:
                row[9] = "T"  # srv_time_since_last_change
        return out

    assert rows(ours) == rows(theirs)


def compare_sess(ours: str, theirs: str) -> None:
    """The fields pylvs knows; HAProxy's stream internals are masked."""

    def norm(text: str) -> list[str]:
        text = re.sub(r"0x[0-9a-f]+:", "PTR:", text)
        text = re.sub(r"epoch=\S+ age=\S+ calls=\d+ rate=\d+ cpu=\d+ lat=\d+", "TIMES", text)
        text = re.sub(r"rq\[[^]]*\] rp\[[^]]*\] scf=\[[^]]*\] scb=\[[^]]*\]", "FLAGS", text)
        return re.sub(r"exp=\S* rc=\d+ c_exp=\S*", "EXP", text).splitlines()

    assert norm(ours) == norm(theirs)


def compare_errors(ours: str, theirs: str) -> None:
    def norm(text: str) -> str:
        return re.sub(r"\[\d\d/\w+/\d{4}:[\d:.]+\]", "[DATE]", text)

    assert norm(ours) == norm(theirs)


def _split_http(text: str) -> tuple[str, str]:
    head, _, body = text.partition("\r\n\r\n")
    if "transfer-encoding: chunked" in head:
        out, rest = "", body
        while rest:
            size, _, rest = rest.partition("\r\n")
            n = int(size, 16)
            if not n:
                break
            out, rest = out + rest[:n], rest[n + 2 :]
        body = out
    return head, body


def _mask_page_proxies(body: str) -> str:
    """The page proxies' own tables: their counters masked (see PAGE_PROXIES)."""
    marker = '<th class="pxname"'
    parts = body.split(marker)
    for i, part in enumerate(parts):
        name = re.match(r' width="10%"><a name="([^"]+)">', part)
        if name and name.group(1) in PAGE_PROXIES:
            text = re.sub(r'<span class="rls">(\d)</span>', r"\1", part)
            text = re.sub(r"\d+", "N", text)
            parts[i] = re.sub(r"<td>(\?|(N[dhms]){1,2})</td>", "<td>AGE</td>", text)
    return marker.join(parts)


def _mask_html(body: str) -> str:
    body = _mask_page_proxies(body)
    body = re.sub(r"(>)\d+[dhms](\d+[hms])? (UP|DOWN|MAINT|NOLB|DRAIN)", r"\1T \3", body)
    body = re.sub(r" in \d+ms", " in Nms", body)
    body = re.sub(
        r"<td><u>\d+(/\d+)?<div class=tips>Failed Health",
        "<td><u>N<div class=tips>Failed Health",
        body,
    )
    body = re.sub(r"</u></td><td>\d+</td><td>[^<]*</td>", "</u></td><td>N</td><td>T</td>", body)
    body = re.sub(
        r"Estimated need of connections:</th><td>\d+<",
        "Estimated need of connections:</th><td>N<",
        body,
    )
    return body


def compare_html(ours: str, theirs: str) -> None:
    h1, b1 = _split_http(ours)
    h2, b2 = _split_http(theirs)
    assert h1.split("\r\n")[1:] == h2.split("\r\n")[1:] or h1 == h2
    assert h1.split("\r\n")[0] == h2.split("\r\n")[0]
    t1, t2 = b1[b1.find('<table class="tbl"') :], b2[b2.find('<table class="tbl"') :]
    assert _mask_html(t1) == _mask_html(t2)
    # The display options and the action message.
    o1 = b1[b1.find("<b>Display option:</b>") : b1.find('<table class="tbl"')]
    o2 = b2[b2.find("<b>Display option:</b>") : b2.find('<table class="tbl"')]
    assert o1 == o2
    for what in ("<title>", "<h1>", "<h2>"):
        assert _line(b1, what) == _line(b2, what)


def _line(text: str, marker: str) -> str:
    at = text.find(marker)
    return re.sub(r"pid \d+", "pid N", text[at : text.find("\n", at)])


def compare_http_stat(ours: str, theirs: str) -> None:
    h1, b1 = _split_http(ours)
    h2, b2 = _split_http(theirs)
    assert h1 == h2
    if b2.startswith("# "):
        compare_stat(b1, b2)
    elif b2.startswith("["):
        compare_json(b1, b2)
    else:
        compare_typed(b1, b2)


def compare_http_stat10(ours: str, theirs: str) -> None:
    compare_html(ours, theirs)


def compare_heads(ours: str, theirs: str) -> None:
    def heads(text: str) -> list[str]:
        return re.findall(r"HTTP/1\.1 [^\r]*\r\n(?:[^\r]+\r\n)*", text)

    assert heads(ours) == heads(theirs)


def compare_exact(ours: str, theirs: str) -> None:
    assert ours == theirs.replace("<reset>", "")


def compare_first_line(ours: str, theirs: str) -> None:
    assert ours.partition("\n")[0] == theirs.partition("\n")[0]


COMPARE = {name[8:]: fn for name, fn in globals().items() if name.startswith("compare_")}


def _ids(i: int) -> str:
    step = RECORDED["steps"][i]
    where = step.get("sock") or step.get("listen")
    return f"{i:03d}-{where}-{step['send'][:40]!r}"


@pytest.mark.parametrize("i", range(len(RECORDED["steps"])), ids=_ids)
def test_step_matches_haproxy(i: int) -> None:
    step = RECORDED["steps"][i]
    COMPARE[step["compare"]](_answers()[i], step["reply"])


def test_the_recording_is_haproxy_2_6_12() -> None:
    assert RECORDED["version"].startswith("HAProxy version 2.6.12")
    assert len(RECORDED["steps"]) > 200
