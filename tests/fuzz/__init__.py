"""Coverage-guided fuzzing (atheris / libFuzzer) of every parser that takes outside input.

``python -m tests.fuzz`` runs each target of :mod:`tests.fuzz.harnesses` in its own process and prints a table;
``tests/fuzz/test_fuzz_short.py`` runs a short pass in CI. See ``tests/fuzz/__main__.py`` for the options.
"""
