"""The listener is called while the cache lock is held, and the lock is not re-entrant (as a native
mutex is not): a listener that calls back into its cache deadlocks.

Events produced by ``set`` / ``get_with`` (``_insert``) are delivered before the lock is released.

Should be caught by: the contract tier's listener tests, through their watchdogs (a test fails after
its watchdog expires; the test run itself never hangs).
"""

from mutants._pure_copy import pure_copy

name = "mutant-listener-under-lock"
priority = 0
exact = True
__version__ = "0+mutant"
Moka = pure_copy(
    name,
    {
        "_cache": [
            ("self._lock = threading.RLock()", "self._lock = threading.Lock()"),
            (
                "            if not self._events:\n"
                "                return ()  # a constant: no list is built for the common case\n"
                "            return self._take_events()\n",
                "            if not self._events:\n                return ()\n"
                "            _deliver(self._listener, self._take_events())\n            return ()\n",
            ),
        ]
    },
).Moka
