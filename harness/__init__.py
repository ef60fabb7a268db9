"""One harness for the benchmarks, the fault drills and the worker-backed tests.

Everything that starts real processes goes through here: free ports (`ports`), a process in
its own process group that is waited for and stopped as a whole (`processes`), the carrier
sandbox and a client of its control API (`sandbox`), Redis, Celery and gunicorn (`services`),
the environment of child processes, with the sandbox credentials of every carrier of the
catalogue (`env`), polling (`wait`) and /proc figures (`procfs`).

A plain package: no Django at import time (the carrier catalogue needs none), so scripts can
set their environment before they start Django.
"""
