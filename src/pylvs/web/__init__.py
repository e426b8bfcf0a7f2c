"""The HTTP surface: Prometheus metrics, the JSON API, the dashboard (issue 23)."""
