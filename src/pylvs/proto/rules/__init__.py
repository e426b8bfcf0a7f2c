"""HAProxy 2.6's rules engine, sans I/O: ACLs and conditions (acl.py)."""
