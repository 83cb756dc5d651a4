"""A quantized real-time schedule, so that two caches on real clocks expire entries identically.

Real time cannot be mocked for the Rust backend (moka's clock is ``std::time::Instant``), so the
differential tier compares expiry on the real monotonic clock (``CLOCK_MONOTONIC``, read by both
``time.monotonic`` and Rust's ``Instant``). The two caches read it at slightly different moments,
so every time-driven decision must be made far from any call:

* Time is cut into ticks of ``TICK`` seconds. Calls happen only in *bursts*, each inside the first
  ``WINDOW`` seconds of a tick; every burst is timed, and one that ended later than that is reported
  as ``Overran`` (the trace is then retried or discarded, never judged).
* Every duration given to a cache (ttl, tti, per-entry ttl/tti) is ``(m + 0.5) * TICK``. A deadline
  is the time of a call plus such durations (a tti renewal or a per-entry ttl cap included), so it
  falls in the second half of a tick, where no call happens: both caches see it passed, or both not.
* moka's timer wheel (per-entry expiry) only removes expired entries when a housekeeping cycle runs
  in a later level-0 bucket (2**30 ns) than the previous one, counted from each cache's own clock
  origin. The origins lie between two readings taken around the caches' construction, so a tick
  whose window could hold a bucket boundary of either cache is skipped: no burst runs there.
* moka's 300 ms housekeeping trigger (and its 100 ms listener timeout in a cycle) never decide: each
  burst starts and ends with ``run_pending_tasks()``, and a burst is shorter than 100 ms.
"""

from __future__ import annotations

import math
import time

TICK = 0.2  # seconds
WINDOW = 0.08  # seconds: a burst must end this soon after its tick starts (< TICK / 2, < 100 ms)
LATE_START = 0.02  # seconds: woken later than this into a tick, the burst waits for the next one
WHEEL_BUCKET = 2**30 / 1e9  # seconds: moka's level-0 timer-wheel bucket
GUARD = 0.002  # seconds kept between a bucket boundary and a burst window


def duration(ticks: int) -> float:
    """A ttl/tti of ``ticks`` whole ticks and a half: deadlines fall mid-tick."""
    return round((ticks + 0.5) * TICK, 9)


class TickSchedule:
    """Sleeps until the start of the next tick where a burst may run, and times the bursts.

    ``origins``: two ``time.monotonic()`` readings, taken before the first cache was built and after
    the last one was, which bracket every cache's clock origin.
    """

    def __init__(self, origins: tuple[float, float]) -> None:
        self.first_origin, self.last_origin = origins
        self.start = self.last_origin + GUARD  # tick 0
        self.tick = -1
        self.burst_start = self.start

    def wheel_boundary_near(self, begin: float) -> bool:
        """Could a level-0 bucket boundary of either cache fall in the window starting at ``begin``?"""
        end = begin + WINDOW
        n = math.floor((begin - self.last_origin) / WHEEL_BUCKET)
        for k in (n, n + 1):
            low = self.first_origin + k * WHEEL_BUCKET - GUARD
            high = self.last_origin + k * WHEEL_BUCKET + GUARD
            if low <= end and begin <= high:
                return True
        return False

    def wait_for_burst(self, gap: int) -> int:
        """Sleep until a burst may start, at least ``gap`` ticks after the previous burst's tick;
        return the tick's number."""
        tick = self.tick + gap
        while True:
            begin = self.start + tick * TICK
            if not self.wheel_boundary_near(begin):
                now = time.monotonic()
                if now < begin:
                    time.sleep(begin - now)
                    now = time.monotonic()
                if now - begin <= LATE_START:
                    self.tick, self.burst_start = tick, begin
                    return tick
            tick += 1

    def burst_in_time(self) -> bool:
        """Did the current burst end within its window (so every call in it was made there)?"""
        return time.monotonic() - self.burst_start <= WINDOW
