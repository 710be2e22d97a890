"""The Stinger operator node (DESIGN.md §6)."""
