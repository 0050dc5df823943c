"""HiGHS instances made in many threads at once leave standard output where it was.

`new_highs` keeps HiGHS' start-up banner off standard output by pointing file
descriptor 1 elsewhere for the constructor; threads that did that at the same time once
left the process's standard output at /dev/null for good. The check runs in a fresh
interpreter, so the banner is still due when the threads start.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import os, sys, threading
from fabnet.plan.solve import new_highs

def where():
    st = os.fstat(1)
    return (st.st_dev, st.st_ino)

before = where()
for rnd in range(20):
    go = threading.Barrier(8)
    def work():
        go.wait()
        for _ in range(25):
            new_highs()
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if where() != before:
        sys.stderr.write(f"fd 1 moved in round {rnd}\n")
        sys.exit(3)
print("still-on-stdout", flush=True)
"""


def test_threads_making_highs_instances_leave_stdout_in_place() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("still-on-stdout")
    assert "Running HiGHS" not in done.stdout
