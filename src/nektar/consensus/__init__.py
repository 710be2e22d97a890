"""QBFT consensus instances as pure state machines (DESIGN.md §2)."""
