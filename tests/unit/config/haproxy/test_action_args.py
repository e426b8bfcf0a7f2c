"""Rule actions missing their arguments, in each parser's words (config/haproxy/action_args.py;
the words read from haproxy 2.6.12 -c)."""

from __future__ import annotations

from pylvs.config.haproxy.action_args import complaint, redirect_problem

FE = "frontend 'fe'"


def test_http_actions_are_wrapped_in_the_rule_parsers_words() -> None:
    assert complaint("http-request", "add-header", 1, FE) == (
        "error detected in frontend 'fe' while parsing 'http-request add-header' rule :"
        " expects exactly 2 arguments."
    )
    assert complaint("http-response", "capture", 0, FE) == (
        "error detected in frontend 'fe' while parsing 'http-response capture' rule :"
        " expects <expression> id <idx>."
    )
    assert complaint("http-request", "add-header", 2, FE) is None


def test_tcp_actions_say_it_bare() -> None:
    assert complaint("tcp-request content", "set-var(sess.x)", 0, FE) == "missing fetch method"
    assert complaint("tcp-request content", "track-sc0", 0, FE) == (
        "'tcp-request content track-sc0' : missing fetch method"
    )
    assert complaint("tcp-request content", "use-service", 0, FE) == (
        "'tcp-request' expects a service name."
    )


def test_a_variable_needs_its_scope_before_its_conditions() -> None:
    said = complaint("http-request", "set-var(foo)", 1, FE)
    assert said is not None and "invalid variable name 'foo'" in said
    assert complaint("http-request", "set-var(txn.x,ifnotexists)", 1, FE) is None


def test_redirect_words_walked_in_order() -> None:
    assert redirect_problem(["scheme"], response=False) == "missing argument for 'scheme'"
    assert redirect_problem(["prefix", "/x", "code", "305"], response=False) == (
        "'code': unsupported HTTP code '305' (must be one of 301, 302, 303, 307 or 308)"
    )
    assert redirect_problem(["drop-query"], response=False) == (
        "redirection type expected ('prefix', 'location', or 'scheme')"
    )
    assert redirect_problem(["prefix", "/x"], response=True) == (
        "response only supports redirect type 'location'"
    )
    assert redirect_problem(["location", "/x", "code", "308"], response=False) is None
