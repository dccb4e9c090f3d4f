"""Test doubles that are real implementations: the in-memory backend and fault injection."""

from kitaru._faulty import Fault, FaultyBackend
from kitaru._memory import MemoryBackend

__all__ = ["Fault", "FaultyBackend", "MemoryBackend"]
