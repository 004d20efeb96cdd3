"""The test suite; helpers are imported as ``tests.<module>`` (never from conftest)."""
