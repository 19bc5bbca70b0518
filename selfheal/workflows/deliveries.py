"""The deliveries a workload took lately, so that a sender's retry of one counts once.

A webhook answers 503 when Temporal is slow to confirm a delivery, and the sender retries;
but the first attempt may have landed all the same. Each delivery carries a digest of its
content (AlertBatch.delivery), and a digest seen within RETRY_WINDOW is a retry. Alertmanager
sends an unchanged group again only after its repeat interval (hours), so nothing but a
retry repeats a digest that soon.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RETRY_WINDOW = timedelta(minutes=10)
"""How long a delivery is remembered: longer than senders keep retrying one notification."""

REMEMBERED = 500
"""At most this many digests are kept (a storm's worth), the oldest forgotten first."""


class RecentDeliveries:
    """Digests of recent deliveries and when each arrived (kept in the workload's state)."""

    def __init__(self, seen: dict[str, datetime]) -> None:
        self._seen = seen

    def first_time(self, digest: str, now: datetime) -> bool:
        """True for a delivery not seen within RETRY_WINDOW, which it then remembers."""
        for old, at in list(self._seen.items()):
            if now - at > RETRY_WINDOW:
                del self._seen[old]
        if digest in self._seen:
            return False
        self._seen[digest] = now
        while len(self._seen) > REMEMBERED:
            del self._seen[next(iter(self._seen))]
        return True
