"""The devnet beacon chain: Electra state transition, slot clock and the node interface."""
