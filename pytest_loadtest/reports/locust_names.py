"""The names of the files Locust's writers produce per scenario (shared by the engine and the pytest side)."""

HTML_NAME = "locust.html"
CSV_PREFIX = "locust"
CSV_NAMES = {
    "stats": f"{CSV_PREFIX}_stats.csv",
    "history": f"{CSV_PREFIX}_stats_history.csv",
    "failures": f"{CSV_PREFIX}_failures.csv",
    "exceptions": f"{CSV_PREFIX}_exceptions.csv",
}
