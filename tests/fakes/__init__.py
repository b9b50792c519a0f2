"""Fake upstream servers that run for real on 127.0.0.1 and speak the documented wire formats."""
