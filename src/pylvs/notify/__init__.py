"""Notifications carried out, for VRRP and health checking alike (keepalived core/notify.c,
core/smtp.c): scripts.py runs scripts as their configured user with keepalived's security
checks, fifo.py writes the notify FIFOs and starts their readers, smtp.py sends alerts.  What
to run and whom to tell comes from the director model (model/notify.py)."""
