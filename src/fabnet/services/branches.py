"""What-if branches: a branch of a stored version gathers changes (rows put or deleted,
disruptions added) without touching the version, can be compared with its parent, and
is merged back as the parent's next version when the parent's rows it changes have not
changed meanwhile. Row edits of a branch go through `fabnet.services.editing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fabnet.io.scenario_io import save_scenario
from fabnet.model.consistency import check_scenario
from fabnet.model.errors import ScenarioError, split_issues
from fabnet.model.scenario import Scenario
from fabnet.services.scenarios import check_name
from fabnet.store import Branch, BranchStatus, Change, ChangeOp, Conflict, Store, VersionInfo
from fabnet.store.branches import RowDiff, apply_changes, diff_scenarios, merge_conflicts
from fabnet.store.scenarios import ScenarioRepository
from fabnet.store.unit_of_work import UnitOfWork


def validated(sc: Scenario, source: str) -> Scenario:
    """`sc` if it passes every cross-record rule, else a `ScenarioError` naming `source`."""
    errors, warnings = split_issues(i.located(source) for i in check_scenario(sc))
    if errors:
        raise ScenarioError(errors, warnings)
    return sc


def base_and_branch(scenarios: ScenarioRepository, branch: Branch) -> tuple[Scenario, Scenario]:
    """The branch's base version, and the base with the branch's changes applied."""
    base = scenarios.get(branch.scenario, branch.base_version)
    return base, apply_changes(base, branch.changes)


def create_branch(store: Store, name: str, scenario: str, version: int | None = None,
                  disruptions: list[str] | None = None, note: str = "") -> Branch:
    """A what-if branch of a version (default: the newest), with optional disruptions
    (`TARGET@DATE+BUCKETS[xFACTOR]`) as its first changes."""
    check_name(name, "branch")
    with store.unit_of_work() as uow:
        info = uow.scenarios.info(scenario, version)
        branch = uow.branches.add(name, scenario, info.version, note)
        if disruptions:
            branch = _add_disruptions(uow, branch, disruptions)
        uow.commit()
    return branch


def add_disruptions(store: Store, name: str, specs: list[str]) -> Branch:
    """Add disruptions (`TARGET@DATE+BUCKETS[xFACTOR]`) to a branch."""
    with store.unit_of_work() as uow:
        uow.branches.lock(name)  # the new ids are picked from what is read next
        branch = _add_disruptions(uow, uow.branches.get(name), specs)
        uow.commit()
    return branch


def _add_disruptions(uow: UnitOfWork, branch: Branch, specs: list[str]) -> Branch:
    from fabnet.model.target import KnownTargets
    from fabnet.resilience.whatif import parse_disruption

    _, current = base_and_branch(uow.scenarios, branch)
    taken = {d.id for d in current.disruptions}
    known = KnownTargets.of(current)
    n = 0
    added = []
    for spec in specs:
        n += 1
        while f"whatif-{n}" in taken:
            n += 1
        d = parse_disruption(spec, current, n, where=f"branch {branch.name}: disruption",
                             known=known)
        taken.add(d.id)
        added.append(d)
    validated(current.with_disruptions(tuple(added)), f"branch {branch.name}")
    for d in added:
        branch = uow.branches.add_change(branch.name, Change(ChangeOp.PUT, "disruptions",
                                                             d.id, d))
    return branch


def materialize(store: Store, name: str) -> Scenario:
    """The full scenario a branch stands for: its base with its changes applied."""
    with store.unit_of_work(read_only=True) as uow:
        return base_and_branch(uow.scenarios, uow.branches.get(name))[1]


def get_branch(store: Store, name: str) -> Branch:
    """A branch and its changes."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.branches.get(name)


def list_branches(store: Store) -> list[Branch]:
    """Every branch."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.branches.all()


@dataclass(frozen=True)
class BranchComparison:
    """A branch against its parent: the rows it changes, and what a merge would meet."""

    branch: Branch
    diffs: list[RowDiff]
    parent_latest: int
    conflicts: list[str]


def compare_branch(store: Store, name: str) -> BranchComparison:
    """The rows a branch adds, removes or changes against its base version, and the rows
    that would conflict on merge because the parent changed them since."""
    with store.unit_of_work(read_only=True) as uow:
        branch = uow.branches.get(name)
        base, mine = base_and_branch(uow.scenarios, branch)
        latest = uow.scenarios.info(branch.scenario).version
        moved = [] if latest == branch.base_version else \
            diff_scenarios(base, uow.scenarios.get(branch.scenario, latest))
    diffs = diff_scenarios(base, mine)
    return BranchComparison(branch, diffs, latest, merge_conflicts(branch.changes, moved))


def merge_branch(store: Store, name: str, note: str = "") -> VersionInfo:
    """Apply a branch's changes to its parent's newest version, as a new version.

    If the parent moved on since the branch was made, rows the branch changes must not
    have changed on the parent too; otherwise nothing is merged and the clash is named.
    """
    with store.unit_of_work() as uow:
        uow.branches.lock(name)  # no change lands between reading them and the merge
        branch = uow.branches.get(name)
        if branch.status is not BranchStatus.OPEN:
            raise Conflict(f"branch {name!r} was already merged into version "
                           f"{branch.merged_version} of {branch.scenario!r} (fix: nothing to "
                           "do, or create a new branch)")
        if not branch.changes:
            raise Conflict(f"branch {name!r} has no changes to merge (fix: add some with "
                           "`fabnet db branch set|delete|disrupt`)")
        latest = uow.scenarios.info(branch.scenario).version
        parent = uow.scenarios.get(branch.scenario, latest)
        if latest != branch.base_version:
            base = uow.scenarios.get(branch.scenario, branch.base_version)
            clash = merge_conflicts(branch.changes, diff_scenarios(base, parent))
            if clash:
                raise Conflict(f"branch {name!r} (from version {branch.base_version}) changes "
                               f"rows that version {latest} of {branch.scenario!r} also "
                               f"changed: {', '.join(clash[:10])} (fix: create a new branch "
                               f"from version {latest} and redo these changes there)")
        merged = validated(apply_changes(parent, branch.changes), f"branch {name}")
        info = uow.scenarios.add_version(branch.scenario, merged,
                                         note or f"merge of branch {name}")
        uow.branches.mark_merged(name, branch.scenario, info.version)
        uow.commit()
    return info


def export_branch(store: Store, name: str, to: str | Path, force: bool = False
                  ) -> Scenario:
    """Write the materialised branch as YAML, XLSX or a CSV folder."""
    sc = materialize(store, name)
    save_scenario(sc, to, force=force)
    return sc
