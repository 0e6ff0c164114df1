"""The plugin's own exceptions: every bad input ends in one of these, never in an internal traceback."""

from __future__ import annotations

from pytest_loadtest.measure.result import LoadResult


def shown(value: object, limit: int = 120) -> str:
    """``repr(value)`` for an error message, shortened; safe for values whose repr fails (a 5000-digit int)."""
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LoadTestUsageError(ValueError):
    """Bad input from the user: a marker argument, an option, an env value or a threshold.

    The message names where the bad value came from (the test, the option, the file) and the value itself.
    """


class EngineError(RuntimeError):
    """The process that runs the scenario failed in a way the user's input does not explain."""


class ForkServerWarning(UserWarning):
    """The fork server could not give a scenario what the pytest process would import, so it ran in a spawned engine
    (said once per import path)."""


class ScenarioInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C or SIGTERM); ``result`` holds the partial figures when there are any."""

    def __init__(self, result: LoadResult | None) -> None:
        super().__init__("load scenario interrupted")
        self.result = result


class LeftoverProcessWarning(UserWarning):
    """User code left processes running after its load scenario (a daemon it started); they were ended, and the
    warning names each by pid and command line."""
