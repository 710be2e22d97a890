"""Beacon API client and the embedded devnet beacon chain (DESIGN.md §2)."""
