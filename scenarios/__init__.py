"""What is checked: one module per topic, each a list of declared cases.

Cases are declared with `harness.interop.scenario.case`."""
