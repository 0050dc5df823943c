"""What each page shows, read through the same services as the API and cut to the
caller by the same scopers (`fabnet.services.scoping`), so a page holds nothing the
caller's API answers would not: no other site's rows, no restricted field.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

from fabnet.model.errors import FabnetError
from fabnet.model.scenario import Scenario
from fabnet.plan.summary import format_kpi, kpi_label, largest_remainder
from fabnet.resilience.exposure import embargo_countries
from fabnet.services import branches as branch_svc
from fabnet.services import continuity as continuity_svc
from fabnet.services import jobs as jobs_svc
from fabnet.services import pages, scoping
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Job, JobStatus, NotFound, PlanRun
from fabnet.web import charts
from fabnet.web.session import WebUser

log = logging.getLogger("fabnet.web")

#: the KPIs a planner reads first, in this order
HEADLINE = ("fill_rate", "on_time_rate", "units_demanded", "units_delivered", "units_late",
            "units_lost", "cost_total")
#: KPIs about the solver, shown apart
TECHNICAL = ("status", "solve_seconds", "build_seconds", "readback_seconds", "lp_columns",
             "lp_rows")


@dataclass
class PlanView:
    """A kept plan as one caller sees it."""

    run: PlanRun
    headline: list[tuple[str, str]]
    other_kpis: list[tuple[str, str]]
    shortfalls: list[dict[str, Any]]
    scope: dict[str, Any] | None
    charts: dict[str, str] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    refused: str | None = None


def _kpi_lines(kpis: dict[str, Any], names: list[str]) -> list[tuple[str, str]]:
    """(label, value) for the KPIs `names` that are there, as a person reads them; the
    units delivered and lost shown add up to the units demanded."""
    shown = dict(kpis)
    parts = ("units_demanded", "units_delivered", "units_lost")
    if all(isinstance(shown.get(n), int | float) for n in parts):
        shown["units_delivered"], shown["units_lost"] = largest_remainder(
            [float(shown["units_delivered"]), float(shown["units_lost"])],
            float(shown["units_demanded"]))
    return [(kpi_label(n), format_kpi(n, shown[n]) if isinstance(shown[n], int | float)
             and not isinstance(shown[n], bool) else str(shown[n]))
            for n in names if n in shown and shown[n] is not None]


def scenario_of(who: WebUser, run: PlanRun) -> Scenario | None:
    """The scenario a plan run was made from (its branch as it stands now), if still there."""
    try:
        if run.branch is not None:
            return branch_svc.materialize(who.store, run.branch)
        return scenario_svc.load_stored(who.store, run.scenario, run.version)
    except NotFound:
        return None


def plan_view(who: WebUser, run: PlanRun, with_charts: bool = True) -> PlanView:
    """A plan run's KPIs, shortfalls with reasons and charts, as `who` may see them."""
    try:
        kpis, doc, scope = scoping.plan_run_view(run, who.viewer, scoping.Sources(who.store),
                                                 with_tables=True)
    except scoping.ScopeRefused as e:
        return PlanView(run, [], [], [], None, refused=str(e))
    doc = doc or {}
    tables = doc.get("tables") or {}
    sc = scenario_of(who, run)
    demand = {d.id: d for d in sc.demand} if sc is not None else {}
    shortfalls = []
    for r in tables.get("shortfalls", []):
        d = demand.get(str(r.get("demand")))
        shortfalls.append({**r, "customer": d.customer if d else "", "item": d.item if d
                           else "", "due": d.due.isoformat() if d else ""})
    shortfalls.sort(key=lambda r: (-float(r.get("qty_lost") or 0),
                                   -float(r.get("qty_late") or 0), str(r.get("demand"))))
    view = PlanView(run, _kpi_lines(kpis, list(HEADLINE)),
                    _kpi_lines(kpis, [k for k in kpis if k not in HEADLINE]),
                    shortfalls, scope, tables=[t for t in tables if t != "kpis"])
    if with_charts and sc is not None:
        if scope is not None and scope.get("partial"):  # the demands their sites serve
            seen = {str(r.get("demand")) for r in tables.get("deliveries", [])} | \
                {str(r.get("demand")) for r in shortfalls}
            rows = [d for d in sc.demand if d.id in seen]
        else:
            rows = list(sc.demand)
        view.charts = {
            "demand": charts.demand_vs_plan(doc, [{"item": d.item, "due": d.due.isoformat(),
                                                   "qty": d.qty} for d in rows]),
            "load": charts.load_heatmap(doc),
            "purchases": charts.purchases_by_country(
                doc, {s.id: s.country for s in sc.suppliers}),
        }
    return view


def plan_document(who: WebUser, run_id: int) -> tuple[PlanRun, dict[str, Any]]:
    """A plan run's document (tables and KPIs) as `who` may see it (`ScopeRefused`)."""
    run = plan_svc.get_plan_run(who.store, run_id)
    _, doc, _ = scoping.plan_run_view(run, who.viewer, scoping.Sources(who.store),
                                      with_tables=True)
    return run, doc or {}


def latest_plan(who: WebUser, scenario: str | None = None) -> PlanRun | None:
    """The newest kept plan (of `scenario`), if any."""
    rows = pages.plan_run_page(who.store, 1, 0, scenario).rows
    return rows[0] if rows else None


@dataclass(frozen=True)
class RunLine:
    """One kept plan in a list."""

    run: PlanRun
    kpis: list[tuple[str, str]]
    refused: bool


def plan_runs(who: WebUser, scenario: str | None, limit: int = 20) -> list[RunLine]:
    """Kept plans, newest first, with their headline KPIs as `who` may see them."""
    sources = scoping.Sources(who.store)
    out = []
    for r in pages.plan_run_page(who.store, limit, 0, scenario).rows:
        try:
            kpis, _, _ = scoping.plan_run_view(r, who.viewer, sources, with_tables=False)
            out.append(RunLine(r, _kpi_lines(kpis, ["fill_rate", "units_delivered",
                                                    "units_lost", "units_produced"]), False))
        except scoping.ScopeRefused:
            out.append(RunLine(r, [], True))
    return out


@dataclass(frozen=True)
class JobLine:
    """A job as `who` may see it."""

    job: Job
    params: dict[str, Any]
    error: str | None


def jobs(who: WebUser, status: JobStatus | None = None, kind: str | None = None,
         limit: int = 20) -> list[JobLine]:
    """Jobs, newest first, their parameters and errors scoped to `who`."""
    sources = scoping.Sources(who.store)
    out = []
    for j in pages.job_page(who.store, limit, 0, None if status is None else status.value,
                            kind).rows:
        params, error = scoping.job_view(j, who.viewer, sources)
        out.append(JobLine(j, params, error))
    return out


def job_line(who: WebUser, job_id: str) -> JobLine:
    """One job as `who` may see it."""
    j = jobs_svc.get_job(who.store, job_id)
    params, error = scoping.job_view(j, who.viewer, scoping.Sources(who.store))
    return JobLine(j, params, error)


@dataclass
class ResultView:
    """The newest finished job of a kind, its result as `who` may see it."""

    job: Job | None
    result: dict[str, Any] | None
    refused: str | None = None
    charts: dict[str, str] = field(default_factory=dict)


def latest_result(who: WebUser, kind: str) -> ResultView:
    """The newest done job of `kind` and its scoped result (or why it is refused)."""
    done = pages.job_page(who.store, 1, 0, JobStatus.DONE.value, kind).rows
    if not done:
        return ResultView(None, None)
    return job_result(who, done[0].id)


def job_result(who: WebUser, job_id: str) -> ResultView:
    """A job's scoped result, with the charts of its kind."""
    try:
        job, result = scoping.job_result(who.store, who.viewer, job_id)
    except scoping.ScopeRefused as e:
        return ResultView(jobs_svc.get_job(who.store, job_id), None, str(e))
    view = ResultView(job, result if isinstance(result, dict) else None)
    if view.result is None:
        return view
    if job.kind == "tts":
        view.charts["matrix"] = charts.risk_matrix(view.result.get("nodes") or [],
                                                   _horizon_days(who, job))
    elif job.kind == "montecarlo":
        crit = list((view.result.get("critical_nodes") or {}).items())[:15]
        if crit:
            view.charts["critical"] = charts.bars(
                "Nodes most often critical (futures)", [n for n, _ in crit],
                [float(c) for _, c in crit], "futures", horizontal=True)
        futures = view.result.get("futures") or {}
        fill = [float(v) for v in futures.get("fill") or [] if v is not None]
        if fill:
            view.charts["fill"] = charts.histogram(
                f"Fill rate over {len(fill)} futures", fill, "fill rate (%)", percent=True)
        gone = [float(v) for v in futures.get("units_lost") or [] if v is not None]
        if gone:
            view.charts["units_lost"] = charts.histogram(
                f"Units lost over {len(gone)} futures", gone, "units lost")
        lost = view.result.get("units_lost_mean_by_item") or {}
        if lost:
            view.charts["lost"] = charts.bars("Mean units lost per product", list(lost),
                                              [float(v) for v in lost.values()], "units")
    return view


def _horizon_days(who: WebUser, job: Job) -> float | None:
    """The horizon of a job's scenario in days (None when it is gone)."""
    try:
        p = job.params
        sc = branch_svc.materialize(who.store, p["branch"]) if p.get("branch") else \
            scenario_svc.load_stored(who.store, p["scenario"], (job.result or {}).get("version"))
    except (NotFound, FabnetError):
        return None
    return float(sc.horizon.days)


def exposed_nodes(view: ResultView) -> list[dict[str, Any]]:
    """The nodes of a TTS result that can't survive their recovery, by impact."""
    nodes = (view.result or {}).get("nodes") or []
    out = [n for n in nodes if n.get("exposed")]
    out.sort(key=lambda n: -float(n.get("pi_units") or 0.0))
    return out


@dataclass
class ExposureView:
    """Country-of-origin exposure of one scenario version, for a viewer who sees it whole:
    the shares at once, the embargo what-ifs once the server has computed them."""

    scenario: str
    version: int
    buckets: int
    #: the bought-in BOM value by country of origin (computed with the page)
    chart: str
    #: how many countries the embargo what-if stops, one at a time
    countries: int
    #: how many of them have been re-planned so far
    countries_done: int = 0
    #: units lost per country, worst first (None until every country is done)
    embargo: list[tuple[str, float]] | None = None
    base_lost: float = 0.0
    error: str | None = None
    done: bool = False

    @property
    def progress(self) -> float:
        """The share of the embargo what-ifs done (0 to 1)."""
        return 1.0 if self.done else min(self.countries_done / max(self.countries, 1), 0.99)


class ExposureBusy(FabnetError):
    """Too many exposures are being computed at once: nothing more is started."""


#: exposures by (store, scenario, version, its content hash, buckets), done or under
#: way: the embargo what-ifs re-plan once per country, so each is computed once, in a
#: thread of the server, and no page waits for it
_EXPOSURES: dict[tuple[str, str, int, str, int], ExposureView] = {}
_EXPOSURE_GUARD = threading.Lock()
#: one exposure computed at a time (the others queue), so they never crowd the pages out
_EXPOSURE_TURN = threading.Lock()
#: the most exposures kept (the oldest finished one is dropped first)
EXPOSURE_CACHE = 32
#: the most exposures queued or under way; more are refused until one is done
EXPOSURE_PENDING = 4


def exposure_view(who: WebUser, scenario: str, buckets: int = 13) -> ExposureView:
    """The exposure of `scenario`'s newest version as `fabnet exposure` computes it
    (`services.continuity.exposure`): its shares now, and its embargo what-ifs as they
    stand, started in a thread of the server the first time a version and embargo length
    is asked for (`ExposureBusy` when `EXPOSURE_PENDING` are under way already).

    Only a viewer who sees every result whole gets it (`ScopeRefused` otherwise, before
    anything is started): the embargo what-if stops site countries too, so its rows tell
    where sites are."""
    if not who.viewer.whole:
        raise scoping.ScopeRefused("results of kind 'exposure' are shown whole only to "
                                   "roles that see every site")
    versions = scenario_svc.list_versions(who.store, scenario)
    if not versions:
        raise NotFound(f"scenario {scenario!r} has no versions (fix: import it first)")
    v = versions[-1]
    key = (str(who.store.engine.url), scenario, v.version, v.content_sha256, buckets)
    with _EXPOSURE_GUARD:
        have = _EXPOSURES.get(key)
    if have is not None:
        return have
    sc = scenario_svc.load_stored(who.store, scenario, v.version)
    with _EXPOSURE_GUARD:
        have = _EXPOSURES.get(key)  # another request may have started it meanwhile
        if have is not None:
            return have
        if sum(not e.done for e in _EXPOSURES.values()) >= EXPOSURE_PENDING:
            raise ExposureBusy(f"{EXPOSURE_PENDING} exposures are being computed already "
                               "(fix: open this page again in a minute)")
        view = _EXPOSURES[key] = ExposureView(
            scenario, v.version, buckets,
            charts.exposure_shares(continuity_svc.exposure_shares(sc).value_share),
            len(embargo_countries(sc)))
        _forget_finished()
    threading.Thread(target=_compute_exposure, args=(view, sc), daemon=True,
                     name=f"exposure-{scenario}-{v.version}").start()
    return view


def _forget_finished() -> None:
    """Drop the oldest finished exposures beyond `EXPOSURE_CACHE` (under the guard)."""
    extra = len(_EXPOSURES) - EXPOSURE_CACHE
    for old in [k for k, e in _EXPOSURES.items() if e.done][:max(extra, 0)]:
        del _EXPOSURES[old]


def _compute_exposure(view: ExposureView, sc: Scenario) -> None:
    """Run the embargo what-ifs of `view` (in turn with the others), filling it in; a
    failure is kept as its error (the scenario version's what-ifs would fail again)."""
    def step(n: int = 1) -> None:
        view.countries_done += n

    try:
        with _EXPOSURE_TURN:
            ex = continuity_svc.exposure(sc, view.buckets, progress=step)
        view.embargo, view.base_lost = list(ex.embargo_lost.items()), ex.base_lost
    except FabnetError as e:
        view.error = f"the embargo what-ifs could not be computed: {e}"
    except Exception as e:  # noqa: BLE001 - the page shows it; the thread must end
        log.error("exposure of %s version %s failed: %s (message withheld: it may hold "
                  "restricted data)\n%s", view.scenario, view.version, type(e).__name__,
                  "".join(traceback.format_tb(e.__traceback__)))
        view.error = (f"the embargo what-ifs could not be computed ({type(e).__name__}); "
                      "the server log has the details")
    view.done = True


@dataclass
class SiteTimeline:
    """What one site makes when, in a plan run: the chart and the units per item."""

    site: str
    chart: str
    totals: list[tuple[str, float]]


def timeline(who: WebUser, run_id: int) -> tuple[PlanRun, list[SiteTimeline]]:
    """Per site the caller may see, the plan run's production over time (the scoped
    plan's rows: a site manager's sites only; `ScopeRefused` when it is withheld)."""
    run, doc = plan_document(who, run_id)
    rows = (doc.get("tables") or {}).get("production", [])
    by_site: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if float(r.get("qty") or 0.0) > 1e-9:
            by_site.setdefault(str(r["site"]), []).append(r)
    out = []
    for site in sorted(by_site):
        totals: dict[str, float] = {}
        for r in by_site[site]:
            totals[str(r["item"])] = totals.get(str(r["item"]), 0.0) + float(r["qty"])
        out.append(SiteTimeline(site, charts.site_timeline(doc, site, by_site[site]),
                                sorted(totals.items())))
    return run, out
