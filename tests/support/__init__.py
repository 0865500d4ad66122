"""Shared test helpers (fake model servers) usable from any test directory."""
