"""Read/write logs, their triggers and one housekeeping cycle.

Mirrors ``common/concurrent/housekeeper.rs`` (triggers, ``run_after``) and
``Inner::do_run_pending_tasks`` in ``sync/base_cache.rs`` (the cycle).

The logs are plain lists owned by the cache (moka: bounded channels of 384 records).  A recorded read
or a write checks the trigger *before* it enqueues its own record:
``len(log) >= 64 or now >= run_after or more_entries_to_evict`` (the flag only exists with an
eviction listener).  The cache keeps one precomputed number for the time part, ``trigger_at``: it is
``run_after``, or 0 while the flag is set, so the hot path does a single comparison.

Reads queue their records without the lock (see ``Moka._record_read``); when a cycle is due they
only try-lock, like moka's ``try_run_pending_tasks``, and a read that finds the log holding
``READ_LOG_CAPACITY`` records (moka's read channel size) drops its record, as moka does.  In one
thread this never happens: a read with 64 or more queued reads always runs the cycle first.
"""

from __future__ import annotations

# Bound at import, not looked up at each call: user code may replace builtins (API.md section 9).
from builtins import len
from typing import Any

from ._policy import Policy, WriteOp

READ_LOG_FLUSH_POINT = 64
READ_LOG_CAPACITY = 384  # moka's READ_LOG_CH_SIZE: a read that finds the log this full is dropped
WRITE_LOG_FLUSH_POINT = 64
MAX_LOG_SYNC_REPEATS = 4
LOG_SYNC_INTERVAL_NANOS = 300_000_000


class Housekeeper:
    """When to run a cycle, and the cycle itself."""

    __slots__ = ("disabled", "keeps_flag", "more_entries_to_evict", "run_after")

    def __init__(self, keeps_flag: bool, disabled: bool, now: int) -> None:
        # The initial run_after is the cache's creation time + 300 ms (moka: fast_now at build).
        self.run_after = now + LOG_SYNC_INTERVAL_NANOS
        self.more_entries_to_evict = False
        self.keeps_flag = keeps_flag  # moka keeps the flag only when an eviction listener is set
        self.disabled = disabled  # max_capacity == 0: the cycle returns at once

    @property
    def trigger_at(self) -> int:
        """The time from which a read or write triggers a cycle (0 = at once: work was left)."""
        return 0 if self.more_entries_to_evict else self.run_after

    def run(self, policy: Policy, read_log: list[Any], write_log: list[WriteOp]) -> int:
        """``Housekeeper::do_run_pending_tasks``; returns the new ``trigger_at``."""
        now = policy.clock()
        self.run_after = now + LOG_SYNC_INTERVAL_NANOS  # set at the *start* of every cycle
        more = run_cycle(policy, read_log, write_log) if not self.disabled else False
        if self.keeps_flag:
            self.more_entries_to_evict = more
        return self.trigger_at


def run_cycle(policy: Policy, read_log: list[Any], write_log: list[WriteOp]) -> bool:
    """``Inner::do_run_pending_tasks`` without the 100 ms listener timeout.

    See docs/internals/moka-algorithms.md, "Logs and housekeeping".

    Returns ``more_entries_to_evict`` of the last loop iteration.
    """
    should_process_logs = True
    calls = 0
    while True:
        if should_process_logs:
            # All queued reads are applied before any queued write.
            if read_log:
                records = read_log[:]
                # Not `del read_log[:]`: lock-free reads may append between the two statements.
                del read_log[: len(records)]
                policy.apply_reads(records)
            if write_log:
                ops = write_log[:]
                del write_log[:]
                policy.apply_writes(ops)
            if policy.tiny_lfu:
                policy.maybe_enable_sketch()
            calls += 1

        policy.more_entries_to_evict = False
        last_eviction_count = policy.eviction_count

        if policy.timer_wheel.wheels:
            policy.evict_expired_entries_using_timers()

        if policy.ttl is not None or policy.tti is not None or policy.va is not None:
            policy.evict_expired_entries_using_deqs()

        weights_to_evict = policy.weights_to_evict()
        if weights_to_evict > 0:
            policy.evict_lru_entries(weights_to_evict)

        should_process_logs = calls <= MAX_LOG_SYNC_REPEATS and (
            len(read_log) >= READ_LOG_FLUSH_POINT or len(write_log) >= WRITE_LOG_FLUSH_POINT
        )
        should_evict_more = policy.more_entries_to_evict and policy.eviction_count > last_eviction_count
        if not should_process_logs and not should_evict_more:
            break
    return policy.more_entries_to_evict
