"""Shared code for the integration tests (emulator control and utilities)."""
