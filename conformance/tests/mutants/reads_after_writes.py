"""Housekeeping applies the queued writes BEFORE the queued reads (moka applies reads first).

Only the order inside one cycle changes: the same records reach the policy, so nothing is lost and
every model invariant holds; but admission sees other frequencies and LRU order.

Should be caught by: the differential tier (lockstep with moka's batching, where a cycle holds both
reads and writes).
"""

from mutants._pure_copy import pure_copy

READS_THEN_WRITES = """\
            if read_log:
                records = read_log[:]
                # Not `del read_log[:]`: lock-free reads may append between the two statements.
                del read_log[: len(records)]
                policy.apply_reads(records)
            if write_log:
                ops = write_log[:]
                del write_log[:]
                policy.apply_writes(ops)
"""

WRITES_THEN_READS = """\
            if write_log:
                ops = write_log[:]
                del write_log[:]
                policy.apply_writes(ops)
            if read_log:
                records = read_log[:]
                del read_log[: len(records)]
                policy.apply_reads(records)
"""

name = "mutant-reads-after-writes"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(name, {"_housekeeper": [(READS_THEN_WRITES, WRITES_THEN_READS)]}).Moka
