"""HAProxy 2.6's logging, sans I/O.

    syslog.py     a log line's header (rfc3164, rfc5424, local, short, raw, ...), the cut to a
                  target's `len`, the `sample` ranges

The datagrams are sent by system/logsend.py.
"""
