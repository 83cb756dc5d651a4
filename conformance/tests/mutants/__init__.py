"""Deliberately broken moka-py backends: the conformance suite must fail every one of them.

Each module here is a backend object (``name``, ``priority``, ``exact``, ``__version__``, ``Moka``)
whose ``Moka`` is a private copy of the pure backend with exactly one behaviour broken (see
``_pure_copy``). ``priority = 0`` keeps them from ever being auto-selected. ``control_pure`` is the
same copy with nothing broken: it must pass, which shows the harness alone causes no failure.

``test_teeth.py`` registers them as ``moka_py.backends`` entry points (a temporary ``.dist-info``
folder on ``PYTHONPATH``) and runs the suite against each one in a subprocess.

A mutant whose module sets ``UNDETECTABLE = "reason"`` is a real behaviour change that no black-box
test can observe; it is not run against the suite, and ``test_teeth.py`` shows in-process that it
does differ from the pure backend.
"""
