"""pylvs.config.keepalived."""
