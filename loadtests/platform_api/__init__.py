"""The reference Platform API: a small, real HTTP service (auth, generations, payments, subscriptions) on 127.0.0.1.

Modules: ``config`` (settings, CLI flags, env vars), ``security`` (password hashing, JWT), ``records`` (the data),
``store`` (SQLite), ``web`` (request/response/router), ``validation`` (request bodies), ``app`` (the WSGI
application), ``serve`` (the gevent server), ``server`` (a process manager for fixtures and scripts); run it with
``python -m loadtests.platform_api``.

This package deliberately imports nothing: ``python -m loadtests.platform_api`` must gevent-patch before anything
else is imported.
"""
