"""Hypothesis profiles for the conformance suite.

The plugin imports this module, so the profiles exist in every pytest run that has the suite
installed, and ``ci`` is loaded unless hypothesis's own ``--hypothesis-profile NAME`` option picks
another (hypothesis applies that option in its ``pytest_configure``, after this import).

* ``ci``: reproducible (derandomized, no example database) and sized so that the model tier takes
  about a minute per backend on a 2-core machine;
* ``dev``: quick feedback while editing; random, and keeps failing examples in ``.hypothesis/``;
* ``thorough``: many more and longer runs, for a night on a developer's machine; failing examples
  are kept in ``.hypothesis/`` to replay.

No profile has a deadline: a cache call may wait on real housekeeping, on a loaded machine.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    max_examples=300,
    stateful_step_count=50,
    derandomize=True,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "dev",
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "thorough",
    max_examples=2_000,
    stateful_step_count=200,
    deadline=None,
    suppress_health_check=_SLOW_IS_FINE,
)

settings.load_profile("ci")
