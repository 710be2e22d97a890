"""Authenticated peer links between cluster members (DESIGN.md §2)."""
