"""Pure rules of the work loop: lease liveness and how active time is counted."""

from __future__ import annotations

from datetime import datetime, timedelta

# Heartbeats further apart than this mean the member was away: the gap is not counted.
MAX_HEARTBEAT_GAP_SECONDS = 30


def lease_is_live(expires_at: datetime, now: datetime) -> bool:
    return now < expires_at


def counted_gap_ms(last_beat: datetime, now: datetime, expires_at: datetime) -> int:
    """Milliseconds of active time between two consecutive signs of life.

    A gap counts only when it is at most 30 s (the page sends heartbeats every 10 s while it
    is visible, so a longer gap means the member was not working), and only the part inside
    the lease counts. Time never runs backwards: a clock step back counts as zero.

    >>> from datetime import datetime, timedelta, UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> counted_gap_ms(t, t + timedelta(seconds=12), t + timedelta(minutes=10))
    12000
    >>> counted_gap_ms(t, t + timedelta(seconds=31), t + timedelta(minutes=10))
    0
    >>> counted_gap_ms(t, t + timedelta(seconds=20), t + timedelta(seconds=5))
    5000
    """
    gap_ms = to_ms(now - last_beat)
    if gap_ms <= 0 or gap_ms > MAX_HEARTBEAT_GAP_SECONDS * 1000:
        return 0
    end = min(now, expires_at)
    return max(0, to_ms(end - last_beat))


def to_ms(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
