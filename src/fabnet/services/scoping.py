"""What a caller sees of a result: plans, what-ifs, time-to-survive sweeps and stress
tests cut down to the sites the caller may see, like a payslip run that hands each
manager the pages of their own team and not the company's payroll.

Every job result and every kept plan goes through `scope_result(kind, result, viewer,
source)`, whose registry (`SCOPERS`) has one scoper per kind of result. A kind without
a scoper is refused (`ScopeRefused`) to every caller who needs scoping, so a new kind
of result can't leak before someone writes its rule. Scopers keep only the keys they
know: a field an engine adds later (a `status`, a new table) is withheld from scoped
callers and named in `scope.withheld` until its scoper learns it.

- A site-limited caller (a site manager: `Viewer.sites`) gets the rows of their sites:
  production, stock and load by site, purchases by receiving site, transfers with an
  end at one of them, deliveries by shipping site, shortfalls of the demands their
  sites serve (reasons naming another site dropped), TTS nodes and Monte Carlo critical
  nodes that are their sites or touch them (lanes, and suppliers' offers over a lane
  into them), what-if disruptions and moved orders of their sites. Network-wide
  numbers (fill rates, costs, per-customer totals, what-if purchases by supplier) are
  left out; a plan's KPIs are recomputed for the visible rows. The result says so in
  `scope: {sites, partial, kpis, withheld}`.
- A caller not cleared for where sites are (`Viewer.cleared` false) is refused a result
  whose inputs disrupt a whole country (`country:XX` in the what-if, the scenario's
  disruptions or its risks): which sites such a result moves would say which sites are
  in that country. The refusal reads the same whatever the country.

Version hashes and notes follow the same rule (`version_view`): a caller who may not
see the whole version gets the SHA-256 of what they may see (the redacted document),
which they could compute themselves, and notes without restricted field names or
other sites' ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fabnet.model.errors import FabnetError
from fabnet.model.scenario import Scenario
from fabnet.model.target import COUNTRY_PREFIX, LANE_PREFIX
from fabnet.store import Job, JobStatus, NotFound, PlanRun, Store, VersionInfo
from fabnet.store.branches import apply_changes
from fabnet.store.mapping import SECTIONS, canonical_json, scenario_json

Row = dict[str, Any]
#: what a scoped caller reads in place of a site they may not see
ANOTHER_SITE = "(another site)"
#: the refusal of a country-dependent result to a caller not cleared for site countries;
#: it is the same for every country, so it confirms nothing
COUNTRY_REFUSAL = ("this result comes from disruptions or risks that hit a whole country, "
                   "so it would show where sites are, which your role is not cleared to "
                   "see (fix: ask a role cleared for site locations: admin, planner, "
                   "continuity or auditor)")


class ScopeRefused(FabnetError):
    """A result the caller may not see at all (the API answers 403)."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the sites they are limited to (None: every site) and whether they
    are cleared for restricted fields; the rules are the API's policy tables."""

    sites: frozenset[str] | None
    cleared: bool
    site_field: Mapping[str, str] = field(default_factory=dict)
    restricted: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def whole(self) -> bool:
        """Does this viewer see every result as it is?"""
        return self.sites is None and self.cleared

    def site_visible(self, site: str) -> bool:
        """Is `site` one of this viewer's sites?"""
        return self.sites is None or site in self.sites

    def may_see(self, section: str, row: Mapping[str, Any]) -> bool:
        """Is master-data `row` of `section` within this viewer's sites?"""
        col = self.site_field.get(section)
        return col is None or self.sites is None or row.get(col) in self.sites

    def redact(self, section: str, row: Row) -> Row:
        """`row` without the restricted fields this viewer is not cleared for."""
        hidden = self.restricted.get(section)
        if not hidden or self.cleared:
            return row
        return {k: v for k, v in row.items() if k not in hidden}


@dataclass(frozen=True)
class Source:
    """What a scoper needs to know of the scenario a result was computed from."""

    sites: frozenset[str]
    lanes: frozenset[tuple[str, str]]
    demand_customer: Mapping[str, str]
    disruption_target: Mapping[str, str]
    names_countries: bool
    locations: frozenset[str] = frozenset()

    @classmethod
    def of(cls, sc: Scenario, extra_targets: Iterable[str] = ()) -> Source:
        """From the scenario, plus the targets a job added (a what-if's disruptions)."""
        targets = [d.target for d in sc.disruptions] + [r.target for r in sc.risks]
        targets += list(extra_targets)
        return cls(frozenset(s.id for s in sc.sites),
                   frozenset((ln.origin, ln.destination) for ln in sc.lanes),
                   {d.id: d.customer for d in sc.demand},
                   {d.id: d.target for d in sc.disruptions},
                   any(t.startswith(COUNTRY_PREFIX) for t in targets),
                   frozenset(s.location for s in sc.sites if len(s.location) >= 3))

    def hidden_names(self, viewer: Viewer) -> frozenset[str]:
        """Ids this viewer must not read: other sites, and disruptions of other sites."""
        if viewer.sites is None:
            return frozenset()
        return (self.sites - viewer.sites) | frozenset(
            d for d, t in self.disruption_target.items() if t not in viewer.sites)

    def node_visible(self, node: str, viewer: Viewer) -> bool:
        """Is a node of a TTS sweep or a stress test one of the viewer's sites, or does it
        touch one: a lane with an end there, a supplier (or its offer `SUP/ITEM`) with a
        lane into one, a customer with a lane from one?"""
        mine = viewer.sites
        if mine is None:
            return True
        if node.startswith(LANE_PREFIX):
            a, _, b = node[len(LANE_PREFIX):].partition(">")
            return a in mine or b in mine
        if node in self.sites:
            return node in mine
        owner = node.split("/", 1)[0]
        return any((owner == a and b in mine) or (owner == b and a in mine)
                   for a, b in self.lanes)


@dataclass(frozen=True)
class Scoped:
    """A result as one viewer sees it, and what was left out."""

    result: dict[str, Any]
    withheld: list[str]


def _words(names: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching any of `names` as a whole id (not inside a longer id)."""
    alts = sorted((re.escape(n) for n in names if n), key=len, reverse=True)
    return re.compile(rf"(?<![\w.-])(?:{'|'.join(alts)})(?![\w.-])") if alts else None


def redact_text(text: str, viewer: Viewer, source: Source) -> str:
    """Free text (a note, an error) with other sites' ids and, for an uncleared viewer,
    site locations replaced."""
    hidden = _words(source.hidden_names(viewer))
    if hidden is not None:
        text = hidden.sub(ANOTHER_SITE, text)
    if not viewer.cleared:
        for loc in source.locations:
            text = text.replace(loc, "***")
    return text


# ---------------------------------------------------------------- the scopers


#: plan tables and the columns naming the sites a row belongs to (any one visible keeps it)
PLAN_SITE_COLUMNS: dict[str, tuple[str, ...]] = {
    "production": ("site",), "stock": ("site",), "load": ("site",),
    "purchases": ("site",), "transfers": ("from", "to"), "deliveries": ("site",),
}
#: KPIs a scoped plan carries, recomputed from its visible rows: name -> (table, column)
VISIBLE_KPIS: dict[str, tuple[str, str]] = {
    "units_produced": ("production", "qty"), "units_purchased": ("purchases", "qty"),
    "units_delivered": ("deliveries", "qty"), "hours_used": ("load", "hours_used"),
    "hours_available": ("load", "hours_available"),
}


def _visible_demands(tables: Mapping[str, list[Row]], viewer: Viewer, source: Source
                     ) -> set[str]:
    """Demands the viewer's sites serve: delivered from one, or with a lane from one to
    the demand's customer."""
    mine = viewer.sites or frozenset()
    reached = {b for a, b in source.lanes if a in mine}
    served = {str(r.get("demand")) for r in tables.get("deliveries", [])}
    return served | {d for d, c in source.demand_customer.items() if c in reached}


def _reason(text: str, viewer: Viewer, source: Source) -> str:
    """A shortfall's reason without the parts that name a site (or a disruption) the
    viewer may not see."""
    hidden = _words(source.hidden_names(viewer))
    parts = [p for p in str(text).split("; ") if hidden is None or not hidden.search(p)]
    return "; ".join(parts) if parts else "withheld: the reason concerns sites outside " \
        "your scope"


def scope_plan_tables(doc: Mapping[str, Any], viewer: Viewer, source: Source,
                      withheld: list[str]) -> dict[str, Any]:
    """A plan document (`scenario`, `buckets`, `kpis`, `tables`) cut to the viewer's sites."""
    raw: Mapping[str, list[Row]] = doc.get("tables") or {}
    tables: dict[str, list[Row]] = {}
    for name, rows in raw.items():
        cols = PLAN_SITE_COLUMNS.get(name)
        if cols is not None:
            tables[name] = [r for r in rows if any(viewer.site_visible(str(r.get(c)))
                                                   for c in cols)]
    if "shortfalls" in raw:
        keep = _visible_demands(tables, viewer, source)
        tables["shortfalls"] = [{**r, "reason": _reason(r.get("reason", ""), viewer, source)}
                                for r in raw["shortfalls"] if str(r.get("demand")) in keep]
    kpis = plan_kpis(tables, doc.get("kpis") or {})
    if "kpis" in raw:
        tables["kpis"] = [{"name": k, "value": v} for k, v in kpis.items()]
    withheld += [f"tables.{n}" for n in raw if n not in tables]
    withheld += [f"kpis.{k}" for k in doc.get("kpis") or {} if k not in kpis]
    out = {k: doc[k] for k in ("scenario", "buckets") if k in doc}
    withheld += [f"plan.{k}" for k in doc if k not in ("scenario", "buckets", "kpis", "tables")]
    return {**out, "kpis": kpis, "tables": tables}


def plan_kpis(tables: Mapping[str, list[Row]], kpis: Mapping[str, Any]) -> dict[str, Any]:
    """The KPIs of the visible rows only (and the solver status, which names no site)."""
    out: dict[str, Any] = {k: kpis[k] for k in ("status",) if k in kpis}
    for name, (table, col) in VISIBLE_KPIS.items():
        out[name] = float(sum(float(r.get(col) or 0.0) for r in tables.get(table, [])))
    return out


def _plan(result: Mapping[str, Any], viewer: Viewer, source: Source) -> Scoped:
    withheld: list[str] = []
    out: dict[str, Any] = {k: result[k] for k in ("plan_run", "scenario", "version", "branch",
                                                   "status") if k in result}
    plan = result.get("plan")
    if isinstance(plan, Mapping):
        out["plan"] = scope_plan_tables(plan, viewer, source, withheld)
        out["kpis"] = out["plan"]["kpis"]
    else:
        out["kpis"] = plan_kpis({}, result.get("kpis") or {})
        withheld += [f"kpis.{k}" for k in result.get("kpis") or {} if k not in out["kpis"]]
    withheld += [k for k in result if k not in out and k != "plan"]
    return Scoped(out, withheld)


def _sites_text(text: Any, viewer: Viewer) -> tuple[str, bool]:
    """A ", "-joined list of sites with the hidden ones replaced; and whether one is the
    viewer's."""
    names = [s for s in str(text).split(", ") if s]
    shown = [s for s in names if viewer.site_visible(s)]
    if len(shown) < len(names):
        shown.append(ANOTHER_SITE)
    return ", ".join(shown), any(viewer.site_visible(s) for s in names)


def _whatif(result: Mapping[str, Any], viewer: Viewer, source: Source) -> Scoped:
    out: dict[str, Any] = {k: result[k] for k in ("version",) if k in result}
    out["disruptions"] = [d for d in result.get("disruptions") or []
                          if viewer.may_see("disruptions", d)]
    moved = []
    for m in result.get("moved") or []:
        frm, a = _sites_text(m.get("from", ""), viewer)
        to, b = _sites_text(m.get("to", ""), viewer)
        if a or b:
            moved.append({k: m[k] for k in ("demand", "customer", "item", "qty") if k in m}
                         | {"from": frm, "to": to})
    out["moved"] = moved
    # KPIs, per-customer totals and purchases per supplier sum over every site
    return Scoped(out, [k for k in result if k not in out])


def _tts(result: Mapping[str, Any], viewer: Viewer, source: Source) -> Scoped:
    out: dict[str, Any] = {k: result[k] for k in ("version",) if k in result}
    out["nodes"] = [n for n in result.get("nodes") or []
                    if source.node_visible(str(n.get("node")), viewer)]
    return Scoped(out, [k for k in result if k not in out])


#: stress-test summary keys that count futures, not units: kept for scoped viewers
MC_COUNTS = ("samples", "solved", "failed")


def _montecarlo(result: Mapping[str, Any], viewer: Viewer, source: Source) -> Scoped:
    out: dict[str, Any] = {k: result[k] for k in ("version", "failed_futures") if k in result}
    summary: Mapping[str, Any] = result.get("summary") or {}
    out["summary"] = {k: v for k, v in summary.items()
                      if k in MC_COUNTS or k.startswith("failed_")}
    out["critical_nodes"] = {n: c for n, c in (result.get("critical_nodes") or {}).items()
                             if source.node_visible(str(n), viewer)}
    withheld = [f"summary.{k}" for k in summary if k not in out["summary"]]
    return Scoped(out, withheld + [k for k in result if k not in out])


Scoper = Callable[[Mapping[str, Any], Viewer, Source], Scoped]
#: one scoper per kind of result; a kind missing here is refused to scoped viewers
SCOPERS: dict[str, Scoper] = {"plan": _plan, "whatif": _whatif, "tts": _tts,
                              "montecarlo": _montecarlo}


def scope_result(kind: str, result: Any, viewer: Viewer, source: Source | None) -> Any:
    """`result` of `kind` as `viewer` may see it: whole for a whole viewer, else cut by
    the kind's scoper with a `scope` note; `ScopeRefused` where no rule lets it through."""
    if viewer.whole:
        return result
    scoper = SCOPERS.get(kind)
    if scoper is None or not isinstance(result, Mapping):
        raise ScopeRefused(f"results of kind {kind!r} are shown whole only to roles that "
                           "see every site (fix: ask an admin, planner, continuity officer "
                           "or auditor)")
    if source is None:
        raise ScopeRefused("the scenario this result came from is no longer in the store, "
                           "so it can't be cut to your sites (fix: plan it again)")
    if not viewer.cleared and source.names_countries:
        raise ScopeRefused(COUNTRY_REFUSAL)
    if viewer.sites is None or source.sites <= viewer.sites:
        return {**result, "scope": {"sites": None if viewer.sites is None else
                                    sorted(viewer.sites), "partial": False}}
    scoped = scoper(result, viewer, source)
    note: dict[str, Any] = {"sites": sorted(viewer.sites), "partial": True,
                            "withheld": sorted(set(scoped.withheld))}
    if kind == "plan":
        note["kpis"] = ("recomputed for your sites' rows: " + ", ".join(VISIBLE_KPIS)
                        + "; network-wide KPIs are withheld")
    return {**scoped.result, "scope": note}


# ---------------------------------------------------------------- reading, scoped


def load_source(store: Store, scenario: str, version: int | None, branch: str | None,
                extra_targets: Iterable[str] = ()) -> Source | None:
    """The `Source` of a result (None when its scenario, version or branch is gone)."""
    try:
        with store.unit_of_work(read_only=True) as uow:
            if branch is not None:
                b = uow.branches.get(branch)
                sc = apply_changes(uow.scenarios.get(b.scenario, b.base_version), b.changes)
            else:
                sc = uow.scenarios.get(scenario, version)
    except NotFound:
        return None
    return Source.of(sc, extra_targets)


def _spec_targets(params: Mapping[str, Any]) -> list[str]:
    """The targets of a job's disruption specs (`TARGET@DATE+N`)."""
    return [str(s).split("@", 1)[0] for s in params.get("disruptions") or []]


class Sources:
    """`load_source` with a cache, for a page of results from few scenarios."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[tuple[Any, ...], Source | None] = {}

    def get(self, scenario: str, version: int | None, branch: str | None,
            extra: Iterable[str] = ()) -> Source | None:
        """The source of one result."""
        key = (scenario, version, branch, tuple(extra))
        if key not in self._seen:
            self._seen[key] = load_source(self.store, scenario, version, branch, extra)
        return self._seen[key]

    def of_job(self, job: Job) -> Source | None:
        """The source of a job's result."""
        p = job.params
        version = (job.result or {}).get("version") if isinstance(job.result, dict) else None
        return self.get(str(p.get("scenario")), version or p.get("version"),
                        p.get("branch"), _spec_targets(p))


def job_result(store: Store, viewer: Viewer, job_id: str) -> tuple[Job, Any]:
    """A finished job and its result as `viewer` may see it (a plan's with its tables);
    `Conflict`-like refusals are the caller's: the job's status is returned as it is."""
    from fabnet.services import jobs as jobs_svc
    from fabnet.services import plan_runs as plan_svc

    job = jobs_svc.get_job(store, job_id)
    if job.status is not JobStatus.DONE:
        return job, None
    result: Any = job.result
    if job.kind == "plan" and isinstance(result, dict) and "plan_run" in result:
        run = plan_svc.get_plan_run(store, int(result["plan_run"]))
        result = {**result, "plan": run.document}
    source = None if viewer.whole else Sources(store).of_job(job)
    return job, scope_result(job.kind, result, viewer, source)


def plan_run_view(run: PlanRun, viewer: Viewer, sources: Sources, with_tables: bool
                  ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """A kept plan as `viewer` may see it: its KPIs, its document (when asked for) and
    the scope note (None for a whole viewer)."""
    if viewer.whole:
        return run.kpis, run.document if with_tables else None, None
    source = sources.get(run.scenario, run.version, run.branch)
    seen = scope_result("plan", {"plan_run": run.id, "kpis": run.kpis,
                                 "plan": run.document}, viewer, source)
    return seen["kpis"], seen.get("plan") if with_tables else None, seen["scope"]


def job_view(job: Job, viewer: Viewer, sources: Sources) -> tuple[dict[str, Any], str | None]:
    """A job's parameters and error as `viewer` may see them: another site's disruption
    specs left out, other sites' ids and locations taken out of the error."""
    if viewer.whole:
        return job.params, job.error
    params = dict(job.params)
    if "disruptions" in params:
        params["disruptions"] = [s for s in params["disruptions"] if viewer.may_see(
            "disruptions", {"target": str(s).split("@", 1)[0]})]
    error = job.error
    if error is not None:
        source = sources.of_job(job)
        if source is None or (not viewer.cleared and source.names_countries):
            error = "failed (the details are withheld: they concern what your role may " \
                "not see)"
        else:
            error = redact_text(error, viewer, source)
    return params, error


# ---------------------------------------------------------------- versions


NOTE = re.compile(r"^(API: \w+ )(\w+)(\[.*\])(?: \(([^()]*)\))?$", re.DOTALL)


def redact_note(note: str, viewer: Viewer, source: Source) -> str:
    """A version or branch note as `viewer` may read it: restricted column names out of
    an edit's note, other sites' ids and site locations out of any note."""
    if viewer.whole:
        return note
    m = NOTE.match(note)
    if m is not None and m[4] is not None and not viewer.cleared:
        hidden = viewer.restricted.get(m[2], frozenset())
        cols = [c for c in m[4].split(", ") if c not in hidden]
        note = m[1] + m[2] + m[3] + (f" ({', '.join(cols)})" if cols else "")
    return redact_text(note, viewer, source)


def view_sha256(sc: Scenario, viewer: Viewer) -> str:
    """The SHA-256 of the part of `sc` that `viewer` may see (canonical JSON of the
    scenario with other sites' rows and restricted fields left out): it can tell two
    versions apart for them, and holds nothing they could not read."""
    doc = scenario_json(sc)
    for section in SECTIONS:
        if section in doc:  # sections added later appear only when used
            doc[section] = [viewer.redact(section, r) for r in doc[section]
                            if viewer.may_see(section, r)]
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


@dataclass(frozen=True)
class VersionView:
    """A version's hash and note as one viewer may see them."""

    content_sha256: str
    note: str
    hash_of: str  # "version": the stored hash of the whole version; "your view": see above


def version_view(store: Store, viewer: Viewer, info: VersionInfo) -> VersionView:
    """`info`'s hash and note for `viewer`: as stored for a whole viewer; else the hash
    of what they may see and the note redacted."""
    if viewer.whole:
        return VersionView(info.content_sha256, info.note, "version")
    with store.unit_of_work(read_only=True) as uow:
        sc = uow.scenarios.get(info.scenario, info.version)
    return VersionView(view_sha256(sc, viewer), redact_note(info.note, viewer, Source.of(sc)),
                       "your view")
