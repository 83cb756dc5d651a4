"""The hash-keyed map: a stored key's ``__hash__``/``__eq__`` never runs after the call that stored it,
except when a later call looks up a key of the same hash (then ``__eq__`` runs, as in ``dict``).
"""

from __future__ import annotations

from typing import Any

import pytest
from moka_py_pure import Moka
from moka_py_pure._keymap import Bucket
from pure_helpers import SEC, FakeClock, Recorder


class Armed:
    """A key whose ``__hash__`` and ``__eq__`` raise once ``armed``; counts their calls."""

    def __init__(self, n: int, h: int | None = None) -> None:
        self.n = n
        self.h = n if h is None else h
        self.armed = False
        self.hash_ok = False  # with armed: only __eq__ raises
        self.calls = 0

    def __hash__(self) -> int:
        self.calls += 1
        if self.armed and not self.hash_ok:
            raise ZeroDivisionError(f"hash of {self.n}")
        return self.h

    def __eq__(self, other: object) -> bool:
        self.calls += 1
        if self.armed:
            raise ZeroDivisionError(f"eq of {self.n}")
        return isinstance(other, Armed) and other.n == self.n

    def __repr__(self) -> str:
        return f"Armed({self.n})"


def _reported(rec: Recorder, key: Armed) -> list[tuple[Any, str]]:
    """The events about ``key`` (found by identity: comparing would run its __eq__)."""
    return [(v, cause) for k, v, cause in rec.events if k is key]


def _armed_after_set(c: Moka[Any, Any], key: Armed, value: Any, **kw: Any) -> None:
    c.set(key, value, **kw)
    key.armed = True
    key.calls = 0


def test_size_eviction_of_a_raising_key_raises_nowhere(clock: FakeClock, rec: Recorder) -> None:
    c: Moka[Any, Any] = Moka._with_clock(clock, 3, eviction_listener=rec, policy="lru")
    bad = Armed(1000)
    _armed_after_set(c, bad, "bad")
    for i in range(10):  # other keys' calls evict it (and run housekeeping) without touching it
        c.set(i, i)
        assert c.get(i) == i
    c.run_pending_tasks()
    assert _reported(rec, bad) == [("bad", "size")]
    assert bad.calls == 0
    assert c.count() == 3


def test_tiny_lfu_admission_and_victims_never_compare_keys(clock: FakeClock, rec: Recorder) -> None:
    c: Moka[Any, Any] = Moka._with_clock(clock, 4, eviction_listener=rec)
    keys = [Armed(i) for i in range(4)]
    for k in keys:
        _armed_after_set(c, k, k.n)
    c.run_pending_tasks()
    for _ in range(5):  # a popular newcomer evicts the armed victims
        for i in range(100, 104):
            c.get(i)
    for i in range(100, 104):
        c.set(i, i)
    c.run_pending_tasks()
    assert sorted(v for k, v, cause in rec.events if cause == "size") == [0, 1, 2, 3]
    assert all(k.calls == 0 for k in keys)


@pytest.mark.parametrize("how", ["ttl", "tti", "per_entry_ttl"])
def test_expiry_of_a_raising_key_raises_nowhere(clock: FakeClock, rec: Recorder, how: str) -> None:
    cache_kw = {"ttl": 1.0} if how == "ttl" else {"tti": 1.0} if how == "tti" else {}
    c: Moka[Any, Any] = Moka._with_clock(clock, 100, eviction_listener=rec, **cache_kw)  # type: ignore[arg-type]
    entry_kw = {"ttl": 1.0} if how == "per_entry_ttl" else {}
    bad = Armed(7)
    _armed_after_set(c, bad, "bad", **entry_kw)
    c.set("other", 1, **entry_kw)
    c.run_pending_tasks()
    clock.advance(2 * SEC)
    assert c.get("other") is None  # expired too; this call also runs the due housekeeping
    c.run_pending_tasks()
    assert _reported(rec, bad) == [("bad", "expired")]
    assert bad.calls == 0 and c.count() == 0


def test_clear_and_other_keys_removal(clock: FakeClock, rec: Recorder) -> None:
    c: Moka[Any, Any] = Moka._with_clock(clock, None, eviction_listener=rec)
    bad = Armed(3)
    _armed_after_set(c, bad, "bad")
    c.set("x", 1)
    assert c.remove("x") == 1
    c.run_pending_tasks()
    c.clear()
    assert _reported(rec, bad) == [("bad", "explicit")]
    assert bad.calls == 0 and c.count() == 0


def test_the_raising_key_raises_from_its_own_calls_only(clock: FakeClock) -> None:
    c: Moka[Any, Any] = Moka._with_clock(clock, 10)
    bad = Armed(5)
    _armed_after_set(c, bad, "bad")
    for call in (lambda: c.get(bad), lambda: c.remove(bad), lambda: c.set(bad, 1), lambda: bad in c):
        with pytest.raises(ZeroDivisionError, match="hash of 5"):
            call()
    c.run_pending_tasks()
    bad.armed = False
    assert c.get(bad) == "bad"  # the cache stayed consistent
    assert c.remove(Armed(5)) == "bad"
    assert c.get(bad) is None


def test_a_colliding_lookup_runs_eq_like_dict(clock: FakeClock) -> None:
    """Only a call that looks up a key of the same hash compares it with the stored key."""
    c: Moka[Any, Any] = Moka._with_clock(clock, 10)
    stored = Armed(1, h=99)
    c.set(stored, "s")
    stored.armed = stored.hash_ok = True
    reference = {Armed(1, h=99): "s"}
    ref_key = next(iter(reference))
    ref_key.armed = ref_key.hash_ok = True
    probe = Armed(2, h=99)
    with pytest.raises(ZeroDivisionError):
        reference.get(probe)
    with pytest.raises(ZeroDivisionError, match="eq of 1"):
        c.get(probe)
    assert c.get(Armed(3, h=100)) is None  # another hash: no comparison
    stored.calls = 0
    assert c.get(stored) == "s"  # identity first: no __eq__
    assert stored.calls == 1  # its __hash__, by this call


def test_collision_buckets(clock: FakeClock, rec: Recorder) -> None:
    c: Moka[Any, Any] = Moka._with_clock(clock, 3, eviction_listener=rec, policy="lru")
    keys = [Armed(i, h=7) for i in range(3)]
    for k in keys:
        c.set(k, k.n)
    assert type(c._map[7]) is Bucket and len(c._map[7]) == 3
    assert [c.get(Armed(i, h=7)) for i in range(4)] == [0, 1, 2, None]
    c.set(Armed(1, h=7), "one")  # an update keeps its place in the bucket
    assert c.get(keys[1]) == "one" and len(c._map[7]) == 3
    assert c.remove(Armed(0, h=7)) == 0
    assert len(c._map[7]) == 2
    c.run_pending_tasks()
    for k in keys:
        k.armed = True
    for i in range(3):  # evicts keys 1 and 2 from the bucket without comparing them
        c.set(i, i)
    c.run_pending_tasks()
    assert 7 not in c._map
    assert sorted(str(v) for k, v, cause in rec.events if cause == "size") == ["2", "one"]
    assert sorted(c._map) == [0, 1, 2]
