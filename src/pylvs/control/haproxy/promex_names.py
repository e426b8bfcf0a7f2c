"""The Prometheus exporter's metric tables (addons/promex/service-prometheus.c as HAProxy
2.6.12 ships it): which `show stat` field becomes which metric, for which objects, counter or
gauge; which `show info` field becomes which process metric; the descriptions the exporter
words its own way.  control/haproxy/promex.py writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.control.haproxy.names import INFO_FIELDS


@dataclass(frozen=True, slots=True)
class Metric:
    """One exported stat field: its `show stat` name, the metric's name, counter or gauge,
    and the objects it is written for (F frontend, L listener, B backend, S server)."""

    field: str
    name: str
    counter: bool
    objects: str


# promex_st_metrics[], in the stat fields' order.
ST_METRICS = tuple(
    Metric(*m)
    for m in (
        ("qcur", "current_queue", False, "BS"),
        ("qmax", "max_queue", False, "BS"),
        ("scur", "current_sessions", False, "FLBS"),
        ("smax", "max_sessions", False, "FLBS"),
        ("slim", "limit_sessions", False, "FLBS"),
        ("stot", "sessions_total", True, "FLBS"),
        ("bin", "bytes_in_total", True, "FLBS"),
        ("bout", "bytes_out_total", True, "FLBS"),
        ("dreq", "requests_denied_total", True, "FLB"),
        ("dresp", "responses_denied_total", True, "FLBS"),
        ("ereq", "request_errors_total", True, "FL"),
        ("econ", "connection_errors_total", True, "BS"),
        ("eresp", "response_errors_total", True, "BS"),
        ("wretr", "retry_warnings_total", True, "BS"),
        ("wredis", "redispatch_warnings_total", True, "BS"),
        ("status", "status", False, "FLBS"),
        ("weight", "weight", False, "BS"),
        ("act", "active_servers", False, "B"),
        ("bck", "backup_servers", False, "B"),
        ("chkfail", "check_failures_total", True, "S"),
        ("chkdown", "check_up_down_total", True, "BS"),
        ("lastchg", "check_last_change_seconds", False, "BS"),
        ("downtime", "downtime_seconds_total", True, "BS"),
        ("qlimit", "queue_limit", False, "S"),
        ("throttle", "current_throttle", False, "S"),
        ("lbtot", "loadbalanced_total", True, "BS"),
        ("rate_lim", "limit_session_rate", False, "F"),
        ("rate_max", "max_session_rate", False, "FBS"),
        ("check_status", "check_status", False, "S"),
        ("check_code", "check_code", False, "S"),
        ("check_duration", "check_duration_seconds", False, "S"),
        ("hrsp_1xx", "http_responses_total", True, "FBS"),
        ("hrsp_2xx", "http_responses_total", True, "FBS"),
        ("hrsp_3xx", "http_responses_total", True, "FBS"),
        ("hrsp_4xx", "http_responses_total", True, "FBS"),
        ("hrsp_5xx", "http_responses_total", True, "FBS"),
        ("hrsp_other", "http_responses_total", True, "FBS"),
        ("req_rate_max", "http_requests_rate_max", False, "F"),
        ("req_tot", "http_requests_total", True, "FB"),
        ("cli_abrt", "client_aborts_total", True, "BS"),
        ("srv_abrt", "server_aborts_total", True, "BS"),
        ("comp_in", "http_comp_bytes_in_total", True, "FB"),
        ("comp_out", "http_comp_bytes_out_total", True, "FB"),
        ("comp_byp", "http_comp_bytes_bypassed_total", True, "FB"),
        ("comp_rsp", "http_comp_responses_total", True, "FB"),
        ("lastsess", "last_session_seconds", False, "BS"),
        ("qtime", "queue_time_average_seconds", False, "BS"),
        ("ctime", "connect_time_average_seconds", False, "BS"),
        ("rtime", "response_time_average_seconds", False, "BS"),
        ("ttime", "total_time_average_seconds", False, "BS"),
        ("conn_rate_max", "connections_rate_max", False, "F"),
        ("conn_tot", "connections_total", True, "F"),
        ("intercepted", "intercepted_requests_total", True, "F"),
        ("dcon", "denied_connections_total", True, "FL"),
        ("dses", "denied_sessions_total", True, "FL"),
        ("wrew", "failed_header_rewriting_total", True, "FLBS"),
        ("connect", "connection_attempts_total", True, "BS"),
        ("reuse", "connection_reuses_total", True, "BS"),
        ("cache_lookups", "http_cache_lookups_total", True, "FB"),
        ("cache_hits", "http_cache_hits_total", True, "FB"),
        ("srv_icur", "idle_connections_current", False, "S"),
        ("src_ilim", "idle_connections_limit", False, "S"),
        ("qtime_max", "max_queue_time_seconds", False, "BS"),
        ("ctime_max", "max_connect_time_seconds", False, "BS"),
        ("rtime_max", "max_response_time_seconds", False, "BS"),
        ("ttime_max", "max_total_time_seconds", False, "BS"),
        ("eint", "internal_errors_total", True, "FLBS"),
        ("idle_conn_cur", "unsafe_idle_connections_current", False, "S"),
        ("safe_conn_cur", "safe_idle_connections_current", False, "S"),
        ("used_conn_cur", "used_connections_current", False, "S"),
        ("need_conn_est", "need_connections_current", False, "S"),
        ("uweight", "uweight", False, "BS"),
        ("agg_server_status", "agg_server_status", False, "B"),
        ("agg_server_check_status", "agg_server_check_status", False, "B"),
        ("agg_check_status", "agg_check_status", False, "B"),
    )
)

# promex_global_metrics[]: show info's field -> (metric name, counter).
INFO_METRICS: dict[str, tuple[str, bool]] = {
    "Nbthread": ("nbthread", False),
    "Nbproc": ("nbproc", False),
    "Process_num": ("relative_process_id", False),
    "Uptime_sec": ("uptime_seconds", False),
    "Start_time_sec": ("start_time_seconds", False),
    "Memmax_bytes": ("max_memory_bytes", False),
    "PoolAlloc_bytes": ("pool_allocated_bytes", False),
    "PoolUsed_bytes": ("pool_used_bytes", False),
    "PoolFailed": ("pool_failures_total", True),
    "Ulimit-n": ("max_fds", False),
    "Maxsock": ("max_sockets", False),
    "Maxconn": ("max_connections", False),
    "Hard_maxconn": ("hard_max_connections", False),
    "CurrConns": ("current_connections", False),
    "CumConns": ("connections_total", True),
    "CumReq": ("requests_total", True),
    "MaxSslConns": ("max_ssl_connections", False),
    "CurrSslConns": ("current_ssl_connections", False),
    "CumSslConns": ("ssl_connections_total", True),
    "Maxpipes": ("max_pipes", False),
    "PipesUsed": ("pipes_used_total", True),
    "PipesFree": ("pipes_free_total", True),
    "ConnRate": ("current_connection_rate", False),
    "ConnRateLimit": ("limit_connection_rate", False),
    "MaxConnRate": ("max_connection_rate", False),
    "SessRate": ("current_session_rate", False),
    "SessRateLimit": ("limit_session_rate", False),
    "MaxSessRate": ("max_session_rate", False),
    "SslRate": ("current_ssl_rate", False),
    "SslRateLimit": ("limit_ssl_rate", False),
    "MaxSslRate": ("max_ssl_rate", False),
    "SslFrontendKeyRate": ("current_frontend_ssl_key_rate", False),
    "SslFrontendMaxKeyRate": ("max_frontend_ssl_key_rate", False),
    "SslFrontendSessionReuse_pct": ("frontend_ssl_reuse", False),
    "SslBackendKeyRate": ("current_backend_ssl_key_rate", False),
    "SslBackendMaxKeyRate": ("max_backend_ssl_key_rate", False),
    "SslCacheLookups": ("ssl_cache_lookups_total", True),
    "SslCacheMisses": ("ssl_cache_misses_total", True),
    "CompressBpsIn": ("http_comp_bytes_in_total", True),
    "CompressBpsOut": ("http_comp_bytes_out_total", True),
    "CompressBpsRateLim": ("limit_http_comp", False),
    "ZlibMemUsage": ("current_zlib_memory", False),
    "MaxZlibMemUsage": ("max_zlib_memory", False),
    "Tasks": ("current_tasks", False),
    "Run_queue": ("current_run_queue", False),
    "Idle_pct": ("idle_time_percent", False),
    "Stopping": ("stopping", False),
    "Jobs": ("jobs", False),
    "Unstoppable Jobs": ("unstoppable_jobs", False),
    "Listeners": ("listeners", False),
    "ActivePeers": ("active_peers", False),
    "ConnectedPeers": ("connected_peers", False),
    "DroppedLogs": ("dropped_logs_total", True),
    "BusyPolling": ("busy_polling_enabled", False),
    "FailedResolutions": ("failed_resolutions", True),
    "TotalBytesOut": ("bytes_out_total", True),
    "TotalSplicdedBytesOut": ("spliced_bytes_out_total", True),
    "BytesOutRate": ("bytes_out_rate", False),
    "CumRecvLogs": ("recv_logs_total", True),
    "Build info": ("build_info", False),
}
INFO_DESC = dict(INFO_FIELDS)

# promex_st_metric_desc[]: where the exporter words a field its own way.
DESCRIPTIONS = {
    "status": "Current status of the service, per state label value.",
    "check_status": "Status of last health check, per state label value.",
    "check_code": "layer5-7 code, if available of the last health check.",
    "check_duration": "Total duration of the latest server health check, in seconds.",
    "qtime": "Avg. queue time for last 1024 successful connections.",
    "ctime": "Avg. connect time for last 1024 successful connections.",
    "rtime": "Avg. response time for last 1024 successful connections.",
    "ttime": "Avg. total time for last 1024 successful connections.",
    "qtime_max": "Maximum observed time spent in the queue",
    "ctime_max": "Maximum observed time spent waiting for a connection to complete",
    "rtime_max": "Maximum observed time spent waiting for a server response",
    "ttime_max": (
        "Maximum observed total request+response time (request+queue+connect+response+processing)"
    ),
}
