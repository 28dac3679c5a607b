"""Helpers shared by the tests: one fake clock, check helpers, JSON requests."""
