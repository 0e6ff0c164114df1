"""The worker's former entry point, kept for scripts and manifests that start remote workers with it:
``python -m pytest_loadtest.worker_process ...`` runs ``python -m pytest_loadtest.runtime.worker_main ...``.
"""

import runpy

if __name__ == "__main__":
    runpy.run_module("pytest_loadtest.runtime.worker_main", run_name="__main__", alter_sys=True)
