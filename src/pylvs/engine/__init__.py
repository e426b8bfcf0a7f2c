"""pylvs.engine."""
