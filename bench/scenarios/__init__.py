"""One module per benchmark scenario; each has `run(rig, profile) -> ScenarioResult`."""
