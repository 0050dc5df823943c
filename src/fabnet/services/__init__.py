"""The verbs users call: plan a scenario, validate it, convert it."""
