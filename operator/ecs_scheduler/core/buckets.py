"""A token bucket: at most `burst` at once, refilled at `rate` per second.

The shape AWS documents for its API throttling (ECS RunTask: burst 100, 40 per second) and
client-go uses for its rate limiters. Pure: the caller passes the time (seconds, any clock that
only moves forward), so tests drive it with numbers.
"""

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    """Tokens added per second."""
    burst: float
    """The most tokens held; a full bucket allows this many at once."""
    tokens: float = field(default=-1.0)
    """Tokens now (starts full)."""
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def available(self, now: float) -> float:
        self._refill(now)
        return self.tokens

    def try_take(self, now: float, count: float = 1.0) -> bool:
        """Take `count` tokens if the bucket holds them."""
        self._refill(now)
        if self.tokens >= count:
            self.tokens -= count
            return True
        return False

    def wait(self, now: float, count: float = 1.0) -> float:
        """Seconds until `count` tokens are there (0: now)."""
        self._refill(now)
        missing = count - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate

    def set_rate(self, rate: float, now: float) -> None:
        """Change the refill rate from now on (tokens already earned are kept)."""
        self._refill(now)
        self.rate = rate
