"""pylvs.control."""
