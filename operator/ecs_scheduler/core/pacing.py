"""Client-side pacing of one ECS API bucket (per account and region): a token bucket at the
configured rate, slowed down when ECS throttles anyway (another client of the account spends
the same budget) and sped up again while it does not.

The rate follows AIMD, as TCP and client-go's adaptive limiters do: a throttled response halves
it (at most once per `cooldown`, so the in-flight calls of one burst count once), and every
second without one adds back a fortieth of the configured rate, so a 40/s limit recovers from
20/s in about 20 s.

A throttle while the pace was at the limit also says that calls sent at the limit arrive
bunched (threads, the GIL and the network jitter them): the pacer then keeps a little under the
bucket for a while, as TCP keeps its slow-start threshold: it recovers only to a ceiling a few
percent under the limit and sends with a larger margin, both given back after a quiet spell.
Pure: times are seconds on the caller's clock.
"""

from dataclasses import dataclass, field

from ecs_scheduler.core.buckets import TokenBucket

DECREASE = 0.5
"""The rate after a throttled response, as a share of the rate before it."""
RECOVERY_SECONDS = 40.0
"""Seconds without throttling to climb back from zero to the configured rate."""
CEILING_STEP = 0.975
"""After a throttle, the rate recovers to at most this share of the previous ceiling..."""
CEILING_FLOOR = 0.9
"""...and never to less than this share of the configured rate: the sustained rate is kept."""
MARGIN_MAX = 1.0
"""Seconds: the most the margin grows to after throttles (it doubles at each)."""
QUIET_SECONDS = 120.0
"""Without a throttle for this long, the ceiling and the margin are given back."""
MARGIN_SECONDS = 0.2
"""Calls leave this much later than the bucket alone would allow, once it has run dry. ECS
counts a call when it arrives: sent exactly at the limit, a call that travels faster than the
one before it would find ECS's bucket a fraction of a token short. A phase shift, not a slower
rate: the first burst is `rate * MARGIN_SECONDS` calls smaller, the pace afterwards the same."""


@dataclass
class Pacer:
    rate: float
    """The configured (published or reserved) refill rate per second."""
    burst: float
    floor: float = 0.5
    """The slowest it ever gets: calls per second."""
    cooldown: float = 1.0
    margin: float = MARGIN_SECONDS
    bucket: TokenBucket = field(init=False)
    throttled_at: float | None = None
    ceiling: float = field(init=False)
    """The rate recovery stops at: the configured rate, or a little under after throttles."""
    base_margin: float = field(init=False)

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(rate=self.rate, burst=self.burst)
        self.ceiling = self.rate
        self.base_margin = self.margin

    @property
    def _needed(self) -> float:
        """Tokens the bucket must hold for a call to go: one, plus the margin (as the bucket
        allows: a bucket of one token has no room for it)."""
        return 1.0 + min(self.bucket.rate * self.margin, self.burst - 1.0)

    @property
    def current_rate(self) -> float:
        return self.bucket.rate

    def _recover(self, now: float) -> None:
        if self.throttled_at is None:
            return
        if now - self.throttled_at >= QUIET_SECONDS:  # quiet long enough: back to the limit
            self.ceiling, self.margin = self.rate, self.base_margin
        if self.bucket.rate >= self.ceiling:
            return
        since = max(0.0, now - max(self.throttled_at, self.bucket.updated))
        if since > 0:
            raised = min(self.ceiling, self.bucket.rate + since * self.rate / RECOVERY_SECONDS)
            self.bucket.set_rate(raised, now)

    def wait(self, now: float) -> float:
        """Seconds until the next call may go (0: now)."""
        self._recover(now)
        return self.bucket.wait(now, self._needed)

    def take(self, now: float) -> bool:
        """Spend a token for a call now, if there is one."""
        self._recover(now)
        if self.bucket.available(now) < self._needed:
            return False
        return self.bucket.try_take(now)

    def spare_wait(self, now: float) -> float:
        """Seconds until a call that must cost no one else may go (0: now): until the bucket is
        full, where the token it spends would have overflowed a moment later. Calls sent this
        way run at the full rate while nothing else is sent, and leave a burst that comes at
        most one token short (a 100-call burst's last call waits 1/rate s, 25 ms at 40/s)."""
        self._recover(now)
        return self.bucket.wait(now, max(self._needed, self.burst))

    def throttled(self, now: float) -> bool:
        """ECS throttled a call: slow down (True) unless this one is part of a burst already
        counted. The tokens left go too: the account's bucket is empty right now."""
        if self.throttled_at is not None and now - self.throttled_at < self.cooldown:
            return False
        self._recover(now)
        self.throttled_at = now
        self.ceiling = max(self.rate * CEILING_FLOOR, min(self.ceiling, self.bucket.rate) * CEILING_STEP)
        self.margin = min(MARGIN_MAX, max(self.margin * 2, self.base_margin))
        self.bucket.set_rate(max(self.floor, self.bucket.rate * DECREASE), now)
        self.bucket.tokens = 0.0
        return True
