"""Prometheus and Alertmanager: a typed client of their HTTP APIs and the metrics evidence."""
