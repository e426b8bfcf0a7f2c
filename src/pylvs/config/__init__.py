"""Configuration: locations and problems, the keepalived.conf reader, ipvsadm rule files."""

from pylvs.config.errors import ConfigError, Location, Problem, Problems, Severity

__all__ = ["ConfigError", "Location", "Problem", "Problems", "Severity"]
