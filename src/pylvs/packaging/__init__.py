"""What a machine needs beside the Python package: the systemd unit, man pages, completion.

`python3 -m pylvs.packaging install` puts them in place (see docs/operators.md, Installing);
each piece is also printed on its own (`man DIR`, `completion bash|zsh`, `unit`).  Pages and
completion are generated from the argument parsers (manpages.py, completion.py), the unit is
the file shipped in pylvs/data with the path of the installed `pylvs` command filled in.
"""
