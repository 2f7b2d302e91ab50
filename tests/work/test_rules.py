"""Active-time rule: properties that must hold for any sequence of heartbeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from datacoop.work.rules import MAX_HEARTBEAT_GAP_SECONDS, counted_gap_ms, lease_is_live, to_ms

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _total(gaps_ms: list[int], lease_ms: int) -> tuple[int, int]:
    expires = T0 + timedelta(milliseconds=lease_ms)
    last, active = T0, 0
    for gap in gaps_ms:
        now = last + timedelta(milliseconds=gap)
        active += counted_gap_ms(last, now, expires)
        last = now
    return active, to_ms(last - T0)


@given(st.lists(st.integers(0, 120_000), max_size=40), st.integers(10_000, 3_600_000))
def test_active_time_never_exceeds_wall_time_nor_the_lease(gaps, lease_ms):
    active, wall = _total(gaps, lease_ms)
    assert 0 <= active <= wall
    assert active <= lease_ms


@given(st.lists(st.integers(1, MAX_HEARTBEAT_GAP_SECONDS * 1000), max_size=40))
def test_steady_heartbeats_inside_a_long_lease_count_fully(gaps):
    active, wall = _total(gaps, lease_ms=10**9)
    assert active == wall


@given(st.lists(st.integers(MAX_HEARTBEAT_GAP_SECONDS * 1000 + 1, 10**6), max_size=20))
def test_gaps_longer_than_30_seconds_count_nothing(gaps):
    assert _total(gaps, lease_ms=10**9)[0] == 0


def test_clock_going_backwards_counts_zero():
    assert counted_gap_ms(T0, T0 - timedelta(seconds=5), T0 + timedelta(minutes=5)) == 0


def test_lease_liveness_is_strict_at_expiry():
    assert lease_is_live(T0 + timedelta(seconds=1), T0)
    assert not lease_is_live(T0, T0)
