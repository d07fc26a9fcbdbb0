"""Replay protection: a PASSporT that already earned an attestation is refused for the rest of its window.

Keyed by the SHA-256 of the token's **signing input** (the received ``header.payload`` bytes), not of its signature.
A signature is not unique to what it signs: an ECDSA signature ``(r, s)`` is as valid as ``(r, n - s)``, and a
signer can make any number of signatures of the same bytes; keyed on the signature, a replayed P-256 PASSporT with
``s`` flipped earned **A** again. The signed bytes are what a replay repeats, and they cannot be altered without
breaking the signature (the strict base64url decoder refuses non-canonical encodings), so one key per claim set
holds for every allowed algorithm. (A dialer placing two calls with identical claims in the same second is placing
the same call twice; the second is a replay.) An entry lives until the token could no longer pass the freshness check
(``iat + freshness``), and no longer: every insert first drops the expired entries at the front of the insertion
order (amortized O(1); entries arrive roughly in expiry order, and one that expires out of order waits at most one
window), so memory follows the attestation rate times the window, not the node's uptime. (The first soak found the
cache growing by ~55 MB in 10 minutes at 470 A per second: entries were swept only when it was full.) A hard bound
remains: when full, expired entries are swept, then the oldest inserted are dropped (a deliberate limit:
``capacity`` tokens per freshness window, 1,000,000 by default).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

__all__ = ["ReplayCache"]


class ReplayCache:
    def __init__(self, capacity: int = 1_000_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._seen: OrderedDict[bytes, int] = OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_add(self, signed: bytes, *, now: int, until: int) -> bool:
        """True if the token is new (and now remembered until ``until``); False if it is a replay. ``signed``: the
        token's signing input (see the module notice), never its signature."""
        key = hashlib.sha256(signed).digest()
        with self._lock:
            self._expire(now)
            expiry = self._seen.get(key)
            if expiry is not None and expiry >= now:
                return False
            if len(self._seen) >= self.capacity:
                self._sweep(now)
            self._seen[key] = until
            self._seen.move_to_end(key)
            return True

    def _expire(self, now: int) -> None:
        seen = self._seen
        while seen:
            first = next(iter(seen))
            if seen[first] >= now:
                return
            del seen[first]

    def _sweep(self, now: int) -> None:
        for k in [k for k, exp in self._seen.items() if exp < now]:
            del self._seen[k]
        while len(self._seen) >= self.capacity:
            self._seen.popitem(last=False)
            self.evicted += 1
