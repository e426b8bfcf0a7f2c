"""HAProxy's `mode tcp` proxying over the proxy data plane's relay (runtime.py: the whole)."""
