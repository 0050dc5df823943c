"""`python -m fabnet.cli`: the same as the `fabnet` script."""

from fabnet.cli.app import main

main()
