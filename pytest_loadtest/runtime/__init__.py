"""The child side of the process boundary: where gevent is patched and Locust runs.

The engine, fork server and worker entry points, the Locust run, the cluster, shapes, arrival, sharing, the CPU
monitor, the client guard and Locust's per-test files. The pytest process never imports this package.
"""
