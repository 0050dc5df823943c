"""Continuity of production: what-if re-plans, time-to-survive, stress tests, exposure."""
