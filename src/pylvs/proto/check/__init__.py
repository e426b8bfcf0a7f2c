"""HAProxy 2.6's health checks, sans I/O: the rules, the run machine, the server states.

    status.py     check statuses (L4OK, L7STS, ...), results, `observe` codes, their texts
    rules.py      a ruleset: connect / send / http-check send / expect / set-var rules
    protocols.py  the rulesets of the protocol checks (redis, mysql, ...) and of the agent
    sample.py     the sample expressions and log-format strings a check evaluates
    health.py     one check's health counter, intervals and log line (set_server_check_status)
    tcpcheck.py   one run of a ruleset: connection events in, socket commands out
    expect.py     matching an expect rule; response.py / request.py: HTTP checks' messages
    custom.py     the MySQL, LDAP, SPOP and agent response readers
    server.py     a server's operational state from its checks, with HAProxy's log lines
    admin.py      maintenance, drain, the agent's words, `observe`, the CLI's health commands
    messages.py   the texts of the state lines
    schedule.py   every check of a process: first-run spread, due runs, results, next runs

Times are arguments (seconds); nothing here opens a socket or reads a clock.  The asyncio
driver that runs these checks on sockets is health/haproxy.py.
"""
