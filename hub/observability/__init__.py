"""Metrics, traces and error reports: what hub/observer.py's seam is told, made visible."""
