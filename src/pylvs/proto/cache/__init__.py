"""HAProxy 2.6's HTTP cache (src/cache.c, the cacheability rules of src/http_ana.c), pure:
rules.py what may be looked up, stored and for how long, vary.py the secondary key of
`process-vary`, store.py the entries with their size, age and eviction.  Time is an
argument (seconds)."""
