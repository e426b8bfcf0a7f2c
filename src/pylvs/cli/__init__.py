"""pylvs.cli."""
