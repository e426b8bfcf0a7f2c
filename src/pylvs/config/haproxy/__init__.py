"""The haproxy.cfg reader (HAProxy 2.6): text -> `model.HaproxyConfig`, every problem located.

`reader.load_text` reads a file's text; `checkmode.exit_status` is what `haproxy -c` would exit
with.  Pure: the environment (for `${VAR}`) and host facts are arguments.
"""
