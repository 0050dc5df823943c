"""One MIP solve in a process of its own, ended at a hard deadline.

HiGHS 1.16 checks its time limit between steps of its branch and bound; on the
whole-unit MIPs of the synthetic networks its root cut loop ran for many minutes past a
limit of seconds, and neither its time limit nor `cancelSolve` stopped it. So the
whole-unit solver hands a large level to a process of its own (forked from a clean
forkserver: nothing of the parent's threads is copied) with the model as arrays and its
start, and waits at most
`wait` seconds: what the process sends back is the level's answer; a process still
running then is killed, and the level keeps the best solution it had sent (HiGHS'
improving-solution callback), or else its start (it is feasible).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import highspy
import numpy as np

from fabnet.model.network import FloatArray


@dataclass
class MipAnswer:
    """What a MIP solve gave: HiGHS' model status, its solution (if any) and its bound."""

    status: highspy.HighsModelStatus
    values: FloatArray | None
    objective: float
    bound: float


def model_arrays(h: highspy.Highs) -> dict[str, Any]:
    """The HiGHS model of `h` as plain arrays (what a fresh process needs to rebuild it)."""
    lp = h.getLp()
    a = lp.a_matrix_
    return {"cost": np.asarray(lp.col_cost_), "col_lower": np.asarray(lp.col_lower_),
            "col_upper": np.asarray(lp.col_upper_), "row_lower": np.asarray(lp.row_lower_),
            "row_upper": np.asarray(lp.row_upper_), "start": np.asarray(a.start_),
            "index": np.asarray(a.index_), "value": np.asarray(a.value_),
            "rowwise": a.format_ == highspy.MatrixFormat.kRowwise,
            "integrality": np.asarray([int(v) for v in lp.integrality_], dtype=np.int64),
            "maximize": lp.sense_ == highspy.ObjSense.kMaximize}


def _rebuild(m: dict[str, Any]) -> highspy.Highs:
    from fabnet.plan.solve import new_highs

    h = new_highs()
    lp = highspy.HighsLp()
    n, r = m["cost"].size, m["row_lower"].size
    lp.num_col_, lp.num_row_ = n, r
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = m["cost"], m["col_lower"], m["col_upper"]
    lp.row_lower_, lp.row_upper_ = m["row_lower"], m["row_upper"]
    lp.a_matrix_.format_ = (highspy.MatrixFormat.kRowwise if m["rowwise"]
                            else highspy.MatrixFormat.kColwise)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, r
    lp.a_matrix_.start_ = m["start"].astype(np.int32)
    lp.a_matrix_.index_ = m["index"].astype(np.int32)
    lp.a_matrix_.value_ = m["value"].astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if m["maximize"] else highspy.ObjSense.kMinimize
    lp.integrality_ = [highspy.HighsVarType(int(v)) for v in m["integrality"]]
    h.passModel(lp)
    return h


def solve_here(h: highspy.Highs, options: dict[str, Any], start: FloatArray,
               check: FloatArray) -> MipAnswer:
    """Solve the MIP of `h` from `start`; `check` (the objective on the first columns)
    proves HiGHS' values give its objective, else it is solved again without a start
    (HiGHS 1.16 may hand back the start's values with a better optimum's objective)."""
    for name, value in options.items():
        h.setOptionValue(name, value)
    h.setSolution(start.size, np.arange(start.size, dtype=np.int32), start)
    h.run()
    values = _values(h, check)
    if values is None and h.getInfo().primal_solution_status == 2:
        h.clearSolver()
        h.run()
        values = _values(h, check)
    info = h.getInfo()
    return MipAnswer(h.getModelStatus(), values, float(info.objective_function_value),
                     float(info.mip_dual_bound))


def _values(h: highspy.Highs, check: FloatArray) -> FloatArray | None:
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    got = np.asarray(h.getSolution().col_value, dtype=float)
    obj = float(info.objective_function_value)
    if abs(float(check @ got[:check.size]) - obj) > 1e-6 * (1.0 + abs(obj)):
        return None
    return got


def _worker(conn: Connection, model: dict[str, Any], options: dict[str, Any],
            start: FloatArray, check: FloatArray) -> None:
    """The child's side: rebuild, solve, send each better solution as HiGHS finds it
    (so a kill keeps the best one) and then the answer's plain parts."""
    h = _rebuild(model)

    def better(e: Any) -> None:
        out = e.data_out
        conn.send(("better", np.asarray(out.mip_solution, dtype=float),
                   float(out.objective_function_value), float(out.mip_dual_bound)))

    h.cbMipImprovingSolution.subscribe(better)
    a = solve_here(h, options, start, check)
    conn.send(("done", int(a.status), a.values, a.objective, a.bound))
    conn.close()


def _context() -> Any:
    """A forkserver: one clean process (no HiGHS threads, this module preloaded) forks
    each solve's process, so a level starts in milliseconds, not an interpreter's start."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["fabnet.plan.mip_worker"])
    return ctx


def solve_isolated(model: dict[str, Any], options: dict[str, Any], start: FloatArray,
                   check: FloatArray, wait: float) -> MipAnswer | None:
    """`solve_here` in a fresh process; after `wait` s, its best solution so far (status
    time limit), or None when it had none."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(child, model, options, start, check),
                       daemon=True)
    proc.start()
    child.close()
    deadline = time.perf_counter() + wait
    best: MipAnswer | None = None
    try:
        while parent.poll(max(deadline - time.perf_counter(), 0.0)):
            msg = parent.recv()
            if msg[0] == "done":
                _, status, values, objective, bound = msg
                return MipAnswer(highspy.HighsModelStatus(status), values, objective, bound)
            _, values, objective, bound = msg
            if abs(float(check @ values[:check.size]) - objective) <= 1e-6 * (1 + abs(objective)):
                best = MipAnswer(highspy.HighsModelStatus.kTimeLimit, values, objective, bound)
        return best  # killed at its deadline: its best solution so far, if any
    except EOFError:  # the process died without an answer
        return best
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        parent.close()
