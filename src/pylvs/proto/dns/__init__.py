"""DNS as HAProxy 2.6's run-time resolvers speak it: wire.py the messages, answers.py the
answer items and each server's pick, resolution.py a `resolvers` section's runs (sans I/O;
engine/proxy_resolvers.py runs them on the loop)."""
