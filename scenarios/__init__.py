"""What is checked: one module per topic, each a list of declared cases (see harness.scenario)."""
