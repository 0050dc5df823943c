"""Reading and writing scenarios (YAML, CSV folder, XLSX) and plans (CSV, JSON)."""

from fabnet.io.scenario_io import ScenarioFormat, convert, load_scenario, save_scenario

__all__ = ["ScenarioFormat", "convert", "load_scenario", "save_scenario"]
