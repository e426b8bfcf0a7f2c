"""pylvs.lab."""
