"""Health checking as keepalived's checker process does it (reference §3.9-3.12).

Pure core: machine.py (checker retry machines), rs_state.py (real-server health and
weights), effects.py (transitions -> desired table, log lines, scripts, FIFO lines, alerts).
I/O drivers: checkers/ (one module per checker kind), runner.py (timers), notify.py (scripts),
fifo.py, smtp.py, files.py (FILE_CHECK), genhash.py.  The engine uses manager.HealthManager.
"""
