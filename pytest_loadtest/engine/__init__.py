"""The pytest-process side of a run: ``run_scenario``, the engine processes (spawned or forked by the fork
server), the protocol between the processes, and what the engine writes.

Nothing here imports gevent or Locust: it runs in the pytest process (see ``runtime`` for the other side).
"""
