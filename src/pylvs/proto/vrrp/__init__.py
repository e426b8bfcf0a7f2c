"""Sans-I/O VRRP (RFC 3768 v2, RFC 5798 v3) as keepalived runs it.

packet: codec and checksums; validate: receive checks; timers: skew and master-down interval;
priority: tracker arithmetic; fsm: the per-instance state machine (events in, commands out);
sync: vrrp_sync_group coordination; garp: gratuitous ARP / unsolicited NA frames and pacing;
notify: notify argv, FIFO lines and log texts; settings: the machine's parameters;
params: those parameters built from the keepalived.conf model.
"""
