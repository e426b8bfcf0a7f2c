"""Load-balancing algorithms: the interface (`base`), the registry by namespaced name
(`registry`), the kernel's IPVS schedulers (`ipvs/`) and HAProxy's balance algorithms
(`haproxy/`).  Pure: no I/O, no clock, randomness from a given `random.Random`."""
