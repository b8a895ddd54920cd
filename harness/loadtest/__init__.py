"""`harness loadtest`: a Locust suite measuring each library's throughput and latency per cell.

A cell is one (library, suite, operation). `locustfile` is what Locust runs; `command` runs
one Locust run per library on the `schedule` (a slot per cell, the in-process loop and the
`cryptography` floor beside each Locust window, in the same process), and writes
`results/<run>/loadtest/`.
"""
