"""pylvs.proto."""
