"""The counting behind login lockouts and upload limits, and which address a request came from."""
from __future__ import annotations

import pytest

from hub.client_address import client_address, parse_networks
from hub.ratelimit import LoginGuard, SlidingWindow


def test_a_window_refuses_the_event_over_the_limit_until_the_oldest_one_ages_out() -> None:
    window = SlidingWindow(3, 60.0)
    assert [window.take("ip", t) for t in (0.0, 10.0, 20.0)] == [0.0, 0.0, 0.0]
    assert window.take("ip", 30.0) == 30.0  # the event at 0 leaves the window at 60
    assert window.take("other", 30.0) == 0.0
    assert window.take("ip", 60.0) == 0.0
    assert window.retry_after("ip", 60.0) == 10.0


def test_a_refused_take_counts_nothing_and_forgetting_starts_over() -> None:
    window = SlidingWindow(1, 10.0)
    assert window.take("k", 0.0) == 0.0
    for t in (1.0, 2.0, 3.0):
        assert window.take("k", t) == 10.0 - t
    assert window.take("k", 10.0) == 0.0
    window.forget("k")
    assert window.take("k", 10.5) == 0.0


def test_a_limit_of_zero_lets_everything_through() -> None:
    window = SlidingWindow(0, 1.0)
    assert all(window.take("k", float(t)) == 0.0 for t in range(1000))


def test_memory_stays_bounded_by_forgetting_the_least_recently_seen_key() -> None:
    window = SlidingWindow(1, 100.0, max_keys=2)
    window.hit("a", 0.0)
    window.hit("b", 1.0)
    window.hit("a", 2.0)  # "a" is now the most recent
    window.hit("c", 3.0)  # "b" is dropped
    assert window.retry_after("b", 4.0) == 0.0
    assert window.retry_after("a", 4.0) > 0 and window.retry_after("c", 4.0) > 0


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindow(-1, 1.0)
    with pytest.raises(ValueError):
        SlidingWindow(1, 0.0)


def test_a_guesser_is_stopped_per_email_and_per_address_and_the_right_password_clears_the_count() -> None:
    guard = LoginGuard(max_failures=3, max_failures_per_address=5, window_s=900.0)
    for t in range(3):
        guard.failed("Mei@Example.com", "203.0.113.7", float(t))
    assert guard.retry_after("mei@example.com", "203.0.113.7", 3.0) == 900 - 3
    assert guard.retry_after("mei@example.com", "198.51.100.2", 3.0) == 0  # Mei herself, elsewhere
    assert guard.retry_after("li@example.com", "203.0.113.7", 3.0) == 0
    guard.failed("li@example.com", "203.0.113.7", 4.0)
    guard.failed("wang@example.com", "203.0.113.7", 5.0)
    assert guard.retry_after("zhao@example.com", "203.0.113.7", 6.0) == 900 - 6  # five from one address

    fresh = LoginGuard(max_failures=3, max_failures_per_address=100, window_s=900.0)
    fresh.failed("mei@example.com", "198.51.100.2", 0.0)
    fresh.failed("mei@example.com", "198.51.100.2", 1.0)
    fresh.succeeded("mei@example.com", "198.51.100.2")
    fresh.failed("mei@example.com", "198.51.100.2", 2.0)
    assert fresh.retry_after("mei@example.com", "198.51.100.2", 3.0) == 0


PROXIES = parse_networks(["10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.7", None, "203.0.113.7"),
        # Not from a trusted proxy: its X-Forwarded-For is the client's own word.
        ("203.0.113.7", "198.51.100.2", "203.0.113.7"),
        ("10.0.0.5", "198.51.100.2", "198.51.100.2"),
        # The client wrote the first entry itself; our proxy appended the real address.
        ("10.0.0.5", "1.2.3.4, 198.51.100.2", "198.51.100.2"),
        ("10.0.0.5", "198.51.100.2, 10.0.0.9", "198.51.100.2"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("10.0.0.5", "10.0.0.8, 10.0.0.9", "10.0.0.8"),
        (None, None, "unknown"),
    ],
)
def test_the_client_address_is_the_nearest_hop_no_trusted_proxy_vouches_for(
    peer: str | None, forwarded_for: str | None, expected: str
) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == expected


def test_a_mistyped_proxy_is_named() -> None:
    with pytest.raises(ValueError, match="'10.0.0.300' is not an IP address or network"):
        parse_networks(["10.0.0.0/8", "10.0.0.300"])
