"""get_with in the binding: when listener events are delivered (the contract is in the conformance suite)."""

import time


def test_listener_writes_do_not_change_the_outcome_of_get_with(Moka):
    # Housekeeping triggered by get_with's own lookup reports evictions; the listener
    # then writes the very key being fetched. Those events are delivered when
    # get_with is done, so its miss still runs the initializer exactly once.
    c = None
    calls = []

    def listener(k, v, cause):
        if k != "k":
            c.set("k", "from-listener")

    c = Moka(1, eviction_listener=listener)
    c.set("a", 1)
    c.set("b", 2)
    time.sleep(0.5)  # past moka's 300 ms housekeeping trigger
    got = c.get_with("k", lambda: calls.append(1) or "from-init")
    assert calls == [1]
    assert got == "from-init"
    assert c.get("k") == "from-listener"  # the listener's write came afterwards
