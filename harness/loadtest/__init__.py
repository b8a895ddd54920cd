"""`harness loadtest`: a Locust suite measuring each library's throughput and latency per cell.

A cell is one (library, suite, operation). `locustfile` is what Locust runs; `command` runs
one Locust process per cell, with the in-process loop and the `cryptography` floor beside it,
and writes `results/<run>/loadtest/`.
"""
