"""pylvs.vrrp."""
