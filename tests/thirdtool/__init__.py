"""A throwaway third tool: what a new tool takes (an app, and one line in INSTALLED_APPS).

Installed only by tests/thirdtool/settings.py; tests/workers/test_registry.py runs
tests/thirdtool/checks.py under those settings in a process of its own.
"""
