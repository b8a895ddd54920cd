"""`harness interop`: the matrix engine.

`scenario` declares cases (`@case`, the context a case builds its token in), `runner` plans and
executes every (case, producer, consumer, suite, mode) cell, `isolation` runs hostile cases in a
child with limits, and `command` writes the run folder: rows, summary, charts, attack report
and claims sheet.
"""
