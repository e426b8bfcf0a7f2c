"""pylvs.system."""
