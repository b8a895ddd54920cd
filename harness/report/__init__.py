"""Everything that reads a stored run: `harness report` and `harness compare`.

`rundata` loads a run folder, `model` builds the `Report` from it (with `scorecard`,
`anomalies`, `throughput`), `html` and `markdown` lay it out, `write` hands one `Report` to
both, `browser` checks the page in headless Chromium, and `compare` diffs two runs.
"""
