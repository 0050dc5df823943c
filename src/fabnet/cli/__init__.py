"""The `fabnet` command line: one module per command group, one error boundary.

`fabnet.cli.app` wires the groups; `fabnet.cli.console` holds the consoles, progress
bars and the boundary that turns an expected error into one line and exit code 1.
"""

from fabnet.cli.app import app, main

__all__ = ["app", "main"]
