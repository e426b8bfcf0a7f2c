"""pylvs frames every captured request and response as the real HAProxy 2.6.12 did.

tests/data/http/{requests,responses}.json were recorded from `haproxy` by
tests/data/http/capture.py: each case's bytes, what HAProxy answered and what it forwarded.
"""

from __future__ import annotations

import pytest

from tests.unit.proto.http.http_corpus import (
    load,
    raw,
    replay_requests,
    replay_response,
    split_forwarded,
    statuses,
)

REQUESTS = load("requests.json")


@pytest.mark.parametrize("case", REQUESTS, ids=[c["name"] for c in REQUESTS])
def test_request_verdicts_and_forwarded_heads_match_haproxy(case: dict[str, object]) -> None:
    replay = replay_requests(raw(str(case["request"])))
    haproxy = statuses(raw(str(case["got"])))
    forwarded = split_forwarded(raw(str(case["forwarded"])))
    mine = replay.outcomes
    if replay.messages and replay.messages[-1].tunnel:
        haproxy = haproxy[: len(mine)]  # the server's tunnelled bytes follow
    if not forwarded and not haproxy:
        assert not [m for m in replay.messages if m.status]  # HAProxy waits: so do we
        return
    assert mine == haproxy
    sent = [m for m in replay.messages if m.status is None]
    assert [m.head for m in sent][: len(forwarded)] == [m.head for m in forwarded][: len(sent)]
    for mine_msg, theirs in zip(sent, forwarded, strict=False):
        if mine_msg.ended and theirs.ended:
            assert mine_msg.body == theirs.body
            assert mine_msg.trailers == theirs.trailers


RESPONSES = load("responses.json")


@pytest.mark.parametrize("case", RESPONSES, ids=[c["name"] for c in RESPONSES])
def test_what_clients_get_for_each_server_response_matches_haproxy(
    case: dict[str, object],
) -> None:
    view = replay_response(raw(str(case["request"])), raw(str(case["response"])))
    assert view.data == raw(str(case["got"]))
    assert view.closed == case["closed"]
