"""Stable per-job choices for `H` (cron) and `?` (classic syntax).

The value depends only on the job's identity and the field it is chosen for, so it survives
restarts, failover and re-creation of the resource, and is never written back into the spec.
"""

import hashlib


def stable_choice(identity: str, salt: str, low: int, high: int) -> int:
    """A value in [low, high], the same for the same identity and salt, spread across jobs."""
    if high < low:
        raise ValueError(f"empty range {low}-{high}")
    digest = hashlib.sha256(f"{identity}\x00{salt}".encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)
