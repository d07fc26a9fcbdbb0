"""The follower as a service: it follows the chain for as long as the node runs, survives outages, and says how
fresh the node's ledger copy is.

One cycle: connect (or reconnect) → :meth:`Follower.check_chain` after any (re)connection → sync to the confirmed
head (each committed step is published by the follower to the node's pipeline, :mod:`node.sync.pipeline`) → when
nothing is left to ingest, *confirm*: call ``on_confirmed(t)`` with the time ``t`` the copy was seen current → wait
for the chain's head to move, at most ``interval``.

**Woken by the head, not by a timer.** Between cycles the service asks the chain for its head every ``head_poll``
seconds (one ``eth_blockNumber``, or an in-process read on the embedded chain) and starts the next cycle as soon as
it moved; ``interval`` only bounds how long a quiet chain goes without a full cycle (which re-checks the synced
block's hash and re-confirms the copy). A revocation therefore reaches the call path one head poll plus one step
after its block is mined, not one sync interval later.

Decisions:

* **Retry forever, with backoff.** A chain that cannot be reached (:class:`~node.errors.ChainUnavailable`, an RPC
  error, a locked index) is retried after 0.5 s, doubling up to 30 s, with jitter so that many nodes do not retry
  in step. Nothing ends the loop but :meth:`SyncService.stop`. An unexpected exception (a defect) is logged with its
  trace and retried the same way: the thread never dies.
* **Refuse, keep retrying to check.** A chain that is not the index's (:class:`~node.errors.ChainRefused`, a chain
  id or deployment mismatch) is not followed: the state is ``refused`` with the code, the index is untouched, and
  the check is repeated at the longest backoff, so the node resumes by itself when the right chain comes back.
* **Freshness is only what was confirmed.** ``confirmed_at`` moves only when a cycle ended with the index at the
  chain's confirmed head; during an outage it stays where it was and the snapshot's age grows, so the attestation
  path's staleness guard gives B (``ledger.stale``). :class:`SyncHealth` is what ``/readyz`` and ``/metrics`` show.
* The clock and the wait are injected (tests and the soak drive them); ``stop`` wakes a waiting loop at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from node.errors import ChainError, ChainIdMismatch, ChainRefused, NodeError, StoreError
from node.sync.follower import Follower, SyncStatus, SyncStep

__all__ = ["SyncService", "SyncHealth", "STATES"]

log = logging.getLogger("eidln.sync")

STATES = ("starting", "following", "retrying", "refused", "stopped")
_REFUSALS = ("store.other_network",)  # StoreError codes that mean "not our chain", not "try again"
SYNC_ERROR = "sync.error"  # the state code after an unexpected exception in a cycle (a defect; logged)


@dataclass(frozen=True, slots=True)
class SyncHealth:
    """What the follower last saw. ``state`` is one of :data:`STATES`; ``code`` / ``message`` the last failure."""

    state: str = "starting"
    head: int | None = None
    synced: int | None = None
    lag: int | None = None
    confirmed_at: float | None = None  # the last time the index was seen at the chain's confirmed head
    code: str | None = None
    message: str | None = None
    failures: int = 0  # consecutive failed cycles
    failures_total: int = 0
    since: float = 0.0  # when ``state`` last changed
    next_attempt: float | None = None  # when a retrying / refused loop tries again

    def age(self, now: float) -> float | None:
        """Seconds since the copy was last confirmed current; None if never."""
        return None if self.confirmed_at is None else max(0.0, now - self.confirmed_at)

    def to_json(self, now: float) -> dict[str, object]:
        age = self.age(now)
        return {"state": self.state, "head": self.head, "synced": self.synced, "lag": self.lag,
                "confirmedAt": self.confirmed_at, "ageSeconds": None if age is None else round(age, 3),
                "failures": self.failures, "failuresTotal": self.failures_total,
                **({"code": self.code, "message": self.message} if self.code else {}),
                **({"nextAttempt": self.next_attempt} if self.next_attempt is not None else {})}


class SyncService:
    """Runs :class:`Follower` cycles until stopped (see the module notice).

    ``connect`` builds the follower (it opens the chain backend and checks the chain); it is called again after a
    failure to connect. ``on_confirmed(t)`` runs after each cycle that reached the head; an exception there counts
    as a failed cycle (the copy is not confirmed)."""

    def __init__(self, connect: Callable[[], Follower], *, interval: float = 1.0, head_poll: float | None = None,
                 on_confirmed: Callable[[float], None] | None = None,
                 progress: Callable[[SyncStep, SyncStatus], None] | None = None,
                 clock: Callable[[], float] = time.time, backoff: tuple[float, float] = (0.5, 30.0),
                 rng: random.Random | None = None,
                 on_change: Callable[[SyncHealth, SyncHealth], None] | None = None) -> None:
        self._connect = connect
        self.interval = interval
        self.head_poll = head_poll  # None: sleep ``interval`` (no head polling)
        self._head: int | None = None  # the head the last cycle synced to
        self._on_confirmed = on_confirmed
        self._progress = progress
        self._clock = clock
        self._backoff = backoff
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._follower: Follower | None = None
        self._recheck = False  # check the chain before the next sync (after an outage it may be another chain)
        self.health = SyncHealth(since=clock())
        self.cycles = 0
        self._changed = threading.Condition()
        self._on_change = on_change  # (old, new) when the state or the failure code changes (the CLI prints it)

    # ------------------------------------------------------------------ one cycle

    def cycle(self) -> float:
        """Run one cycle; the seconds to wait before the next one."""
        self.cycles += 1
        try:
            follower = self._follower
            if follower is None:
                follower = self._follower = self._connect()
            elif self._recheck:
                follower.check_chain()
            self._recheck = False
            st = follower.sync(progress=self._progress)
            self._head = st.head
            if st.lag == 0:
                confirmed = self._clock()
                if self._on_confirmed is not None:
                    self._on_confirmed(confirmed)
                self._set(state="following", head=st.head, synced=st.synced, lag=st.lag, confirmed_at=confirmed,
                          code=None, message=None, failures=0, next_attempt=None)
            else:  # a batch limit or confirmations left work: go on at once
                self._set(state="following", head=st.head, synced=st.synced, lag=st.lag, code=None, message=None,
                          failures=0, next_attempt=None)
                return 0.0
            return self.interval
        except (ChainRefused, ChainIdMismatch) as exc:
            return self._failed("refused", exc.code, exc.message, longest=True)
        except StoreError as exc:
            if exc.code in _REFUSALS:
                return self._failed("refused", exc.code, exc.message, longest=True)
            return self._failed("retrying", exc.code, exc.message)
        except (ChainError, NodeError) as exc:  # unreachable, RPC errors, a locked index: try again
            self._recheck = True
            return self._failed("retrying", exc.code, exc.message)
        except Exception as exc:  # a defect: keep the trace, never let the thread die
            log.exception("sync cycle failed")
            self._recheck = True
            return self._failed("retrying", SYNC_ERROR, f"{type(exc).__name__}: {str(exc)[:200]}")

    def _failed(self, state: str, code: str, message: str, *, longest: bool = False) -> float:
        failures = self.health.failures + 1
        lo, hi = self._backoff
        delay = hi if longest else min(hi, lo * 2 ** min(failures - 1, 30))
        delay *= self._rng.uniform(0.5, 1.0)
        if self.health.code != code or self.health.state != state:
            log.warning("ledger sync %s: %s: %s (next attempt in %.1f s)", state, code, message, delay)
        self._set(state=state, code=code, message=message, failures=failures,
                  failures_total=self.health.failures_total + 1, next_attempt=self._clock() + delay)
        return delay

    def _set(self, **changes: object) -> None:
        with self._changed:
            old = self.health
            new = replace(old, **changes)  # type: ignore[arg-type]
            if new.state != old.state:
                new = replace(new, since=self._clock())
            self.health = new
            self._changed.notify_all()
        if self._on_change is not None and (new.state, new.code) != (old.state, old.code):
            self._on_change(old, new)

    # ------------------------------------------------------------------ loops

    def run(self, first_delay: float = 0.0) -> None:
        """Cycle until :meth:`stop` (in the calling thread), the first cycle after ``first_delay`` seconds."""
        delay = first_delay
        while not self._stop.is_set():
            if delay > 0 and self._wait(delay):
                break
            delay = self.cycle()
        self._set(state="stopped")

    def _wait(self, delay: float) -> bool:
        """Wait ``delay`` seconds, or less if the chain's head moves (when following with ``head_poll``); True if
        stopped."""
        follower, poll = self._follower, self.head_poll
        if poll is None or follower is None or self._head is None or self.health.state != "following":
            return self._stop.wait(delay)
        deadline = time.monotonic() + delay
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._stop.wait(min(poll, left)):
                return True
            try:
                if follower.backend.head() != self._head:
                    return False
            except Exception:  # unreachable now: the cycle finds out, and says why
                return False

    def start(self, first_delay: float = 0.0) -> threading.Thread:
        """Run in a daemon thread (``eidln-sync``)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, args=(first_delay,), daemon=True, name="eidln-sync")
            self._thread.start()
        return self._thread

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    @property
    def alive(self) -> bool:
        """The loop runs (or was never started in a thread)."""
        return self._thread is None or self._thread.is_alive()

    def wait_for(self, predicate: Callable[[SyncHealth], bool], timeout: float) -> SyncHealth:
        """Block until ``predicate(health)`` holds (or ``timeout`` s pass); the health then. For operators' tools and
        tests that wait for a state."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.health):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self.health
