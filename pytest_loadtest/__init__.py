"""pytest-loadtest: load tests as ordinary pytest tests, run by Locust, judged by thresholds.

The core works without pytest: build a ``Scenario``, ``run_scenario`` it, and ``judge`` its result as the plugin
does (its thresholds evaluated, then every reason a load test fails, in order; see ``measure/gates.py``).
"""

from pytest_loadtest.engine.processes import ForkServer
from pytest_loadtest.engine.run import run_scenario
from pytest_loadtest.errors import EngineError, ForkServerWarning, LoadTestUsageError, ScenarioInterrupted
from pytest_loadtest.measure.gates import Judgement, judge
from pytest_loadtest.measure.result import EntryStats, ErrorCount, LoadResult, ProgressPoint, UserException
from pytest_loadtest.measure.thresholds import evaluate, parse_thresholds, render_table
from pytest_loadtest.measure.verdicts import Status, Threshold, Verdict
from pytest_loadtest.scenario import Scenario, UserClassRef
from pytest_loadtest.shared_values import load_value, load_values

__all__ = [
    "EngineError",
    "EntryStats",
    "ErrorCount",
    "ForkServer",
    "ForkServerWarning",
    "Judgement",
    "LoadResult",
    "LoadTestUsageError",
    "ProgressPoint",
    "Scenario",
    "ScenarioInterrupted",
    "Status",
    "Threshold",
    "UserClassRef",
    "UserException",
    "Verdict",
    "evaluate",
    "judge",
    "load_value",
    "load_values",
    "parse_thresholds",
    "render_table",
    "run_scenario",
]
