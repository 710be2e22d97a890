"""One command that wires every layer into a live local network (DESIGN.md §7)."""
