"""Small servers pylvs starts for demos, labs and tests."""
