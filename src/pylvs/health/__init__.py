"""pylvs.health."""
