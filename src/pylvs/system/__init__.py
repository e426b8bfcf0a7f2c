"""Host side effects (ARCHITECTURE principle 6): the typed interface, the netlink implementation
and an in-memory fake.  `effects` defines `HostEffects` and its records; `netlink.NetlinkHost`
(root) and `fake.FakeHost` (tests) implement it.
"""
