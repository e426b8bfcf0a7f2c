"""pylvs.dataplane."""
