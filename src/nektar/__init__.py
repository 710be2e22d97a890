"""Nektar: DVT staking (Diva), restaking and an infrastructure marketplace on Ethereum."""

__version__ = "0.1.0"
