"""On-chain protocol access: the only Python that knows contract ABIs (DESIGN.md §2)."""
