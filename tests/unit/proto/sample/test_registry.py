"""Every fetch and converter pylvs implements is one HAProxy 2.6 declares (the signature
table config/haproxy/fetches.py was generated from its source), and the keywords users of
the seeds' kind write are all there."""

from pylvs.config.haproxy.fetches import CONVERTERS as HAPROXY_CONVERTERS
from pylvs.config.haproxy.fetches import FETCHES as HAPROXY_FETCHES
from pylvs.proto.sample.expr import CONVERTERS, FETCHES

COMMON_FETCHES = [
    *("src", "dst", "src_port", "dst_port", "so_name", "path", "pathq", "url", "url_param"),
    *("query", "method", "hdr", "req.hdr", "req.fhdr", "hdr_cnt", "req.cook", "cook", "res.hdr"),
    *("status", "base", "req.body", "capture.req.hdr", "srv_name", "be_name", "fe_name", "var"),
    *("env", "rand", "date", "uuid", "unique-id", "str", "int", "bool", "sc_http_req_rate"),
    "src_conn_rate",
]
COMMON_CONVERTERS = [
    *("lower", "upper", "base64", "b64dec", "ub64enc", "ub64dec", "hex", "be2dec", "be2hex"),
    *("field", "word", "regsub", "ipmask", "concat", "strcmp", "add_item", "digest", "hmac"),
    *("sha1", "sha2", "crc32", "djb2", "wt6", "json", "json_query", "url_dec", "url_enc", "iif"),
    *("secure_memcmp", "map", "map_str", "map_beg", "map_dom", "map_reg", "map_ip", "bool"),
    *("not", "add", "sub", "mul", "div", "mod", "and", "or", "xor", "set-var"),
]


def test_implemented_keywords_are_haproxys() -> None:
    assert set(FETCHES) - set(HAPROXY_FETCHES) == set()
    assert set(CONVERTERS) - set(HAPROXY_CONVERTERS) == set()


def test_the_common_keywords_are_implemented() -> None:
    missing_fetches = [f for f in COMMON_FETCHES if f not in FETCHES]
    missing_converters = [c for c in COMMON_CONVERTERS if c not in CONVERTERS]
    assert missing_fetches == []
    assert missing_converters == []
