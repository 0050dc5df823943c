"""Errors of the domain: one `FabnetError` base, and scenario problems as located `Issue`s.

An issue names where the problem is (file, section, record, field), what is wrong and
how to fix it, so a planner can correct a spreadsheet without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    """An error stops a scenario from being planned; a warning is worth knowing but valid."""

    ERROR = "error"
    WARNING = "warning"


class FabnetError(Exception):
    """Base of every error fabnet raises on purpose; the CLI prints it without a traceback."""


@dataclass(frozen=True)
class Issue:
    """One problem in a scenario, located down to the field."""

    section: str
    record: str
    field: str
    message: str
    fix: str = ""
    file: str = ""
    severity: Severity = Severity.ERROR

    @property
    def is_warning(self) -> bool:
        """True for a warning: the scenario is still valid."""
        return self.severity is Severity.WARNING

    def located(self, file: str) -> Issue:
        """The same issue with its file filled in (the reader knows it, the rule does not)."""
        return self if self.file else replace(self, file=file)

    def __str__(self) -> str:
        where = f"{self.section}[{self.record}]" if self.record else self.section
        if self.field:
            where += f".{self.field}"
        head = f"{self.file}: " if self.file else ""
        tail = f" (fix: {self.fix})" if self.fix else ""
        kind = "warning: " if self.is_warning else ""
        return f"{head}{kind}{where}: {self.message}{tail}"


def warning(section: str, record: str, field: str, message: str, fix: str = "",
            file: str = "") -> Issue:
    """An `Issue` of severity warning: reported, but the scenario stays valid."""
    return Issue(section, record, field, message, fix, file, Severity.WARNING)


def split_issues(issues: Iterable[Issue]) -> tuple[list[Issue], list[Issue]]:
    """(errors, warnings) of a list of issues, each in its original order."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    for i in issues:
        (warnings if i.is_warning else errors).append(i)
    return errors, warnings


class ScenarioError(FabnetError):
    """A scenario that can't be planned; carries every issue found, not just the first."""

    def __init__(self, issues: list[Issue], warnings: Iterable[Issue] = ()) -> None:
        self.issues = list(issues)
        self.warnings = list(warnings)
        n = len(self.issues)
        lines = "\n".join(f"  {i}" for i in self.issues)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in scenario:\n{lines}")
