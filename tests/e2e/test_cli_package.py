"""The `fabnet` command as one package: one error boundary, --version, options where typed."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.unit.test_validation import BASE

BIN = Path(sys.executable).parent


def fabnet(*args: str, cwd: Path | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "fabnet"), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A fresh SQLite store holding the tiny scenario as `tiny`."""
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(BASE)
    assert fabnet("db", "--url", url, "init").returncode == 0
    r = fabnet("db", "--url", url, "import", str(scenario), "--name", "tiny")
    assert r.returncode == 0, r.stderr
    return url


def test_unwritable_export_is_one_line_and_exit_1(store_url: str) -> None:
    r = fabnet("db", "export", "tiny", "--to", "/proc/nope/x.yaml", "--url", store_url)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: /proc/nope"), r.stderr


def test_version_is_the_installed_package_version() -> None:
    r = fabnet("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"fabnet {version('fabnet')}"


def test_python_dash_m_runs_the_same_command() -> None:
    r = subprocess.run([sys.executable, "-m", "fabnet.cli", "--version"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("fabnet ")


def test_url_is_accepted_on_the_subcommand(store_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FABNET_DATABASE_URL"}
    r = fabnet("db", "export", "tiny", "--to", str(tmp_path / "o.yaml"), "--url", store_url,
               cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o.yaml").read_text().startswith("scenario:")
    r = fabnet("audit", "verify", "--url", store_url, cwd=tmp_path, env=env)
    assert r.returncode == 0 and "ok: 2 entries" in r.stdout, r.stderr
    r = fabnet("db", "list", "--url", store_url, cwd=tmp_path, env=env)
    assert r.returncode == 0 and "tiny" in r.stdout


def test_subcommand_url_wins_over_the_group_and_the_environment(store_url: str,
                                                                tmp_path: Path) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'other.sqlite'}"
    env = {**os.environ, "FABNET_DATABASE_URL": elsewhere}
    r = fabnet("db", "--url", elsewhere, "list", "--url", store_url, env=env)
    assert r.returncode == 0 and "tiny" in r.stdout, r.stderr
    r = fabnet("audit", "--url", store_url, "verify", env=env)
    assert r.returncode == 0, r.stderr
    broken = {**os.environ, "FABNET_DATABASE_URL": "nosuchdb://x"}
    r = fabnet("db", "list", "--url", store_url, env=broken)
    assert r.returncode == 0 and "tiny" in r.stdout, r.stderr


def test_strike_implies_continuity(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = fabnet("plan", str(p), "--strike", "FR-LYON@2027-01-11+2")
    assert r.returncode == 0, r.stderr
    assert "What a strike costs" in r.stdout and "most exposed nodes" in r.stdout
    assert "Implies --continuity" in fabnet("plan", "--help").stdout


@pytest.mark.parametrize("args", [
    ("exposure", "{s}", "--buckets", "0"),
    ("plan", "{s}", "--top", "-1"),
    ("stress", "tts", "{s}", "--top", "-3"),
    ("stress", "tts", "{s}", "--workers", "0"),
    ("stress", "tts", "{s}", "--ttr", "0"),
    ("stress", "tts", "{s}", "--capacity-factor", "-1"),
    ("stress", "tts", "{s}", "--stock-days", "-2"),
    ("stress", "montecarlo", "{s}", "--samples", "0"),
    ("stress", "montecarlo", "{s}", "--workers", "0"),
    ("stress", "montecarlo", "{s}", "--samples", "100001"),
    ("design", "{s}", "--futures", "1000000000", "--budget", "1"),
    ("import", "willems", "{s}", "--out", "{o}", "--ttr", "-5"),
    ("import", "willems", "{s}", "--out", "{o}", "--capacity-factor", "0"),
])
def test_out_of_range_options_are_refused_before_any_work(args: tuple[str, ...],
                                                          tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    out = tmp_path / "out"
    r = fabnet(*[a.format(s=p, o=out) for a in args])
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Invalid value" in r.stderr and "Traceback" not in r.stderr
    option = next(a for a in args if a.startswith("--") and a != "--out")
    assert option in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("command", [("plan", "{s}"),
                                     ("whatif", "{s}", "--disrupt", "FR-LYON@2027-01-11+1"),
                                     ("stress", "tts", "{s}"), ("exposure", "{s}")])
def test_commands_print_the_scenarios_warnings_on_stderr(command: tuple[str, ...],
                                                         tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE  # FR-LYON lists FC-H7 but has no test bench: a warning, still valid
                 .replace("makes: [RECON-Q]", "makes: [RECON-Q, FC-H7]")
                 .replace("routings:\n", "routings:\n  FC-H7: [{work_center: bench, hours: 1}]\n")
                 .replace("suppliers:\n", "  - {id: PL-RZ, country: PL, makes: [], "
                          "work_centers: [{type: bench, hours: 10}]}\nsuppliers:\n"))
    r = fabnet(*[a.format(s=p) for a in command])
    assert r.returncode == 0, r.stderr
    assert "1 warning" in r.stderr and "sites[FR-LYON].makes" in r.stderr
    assert "warning" not in r.stdout


@pytest.mark.parametrize("address", ["not a url", "127.0.0.1", "ftp://h:8786", "tcp://h:99999"])
def test_a_malformed_scheduler_address_is_one_line_before_any_work(
        address: str, tmp_path: Path) -> None:
    """Refused before a connection is tried: no traceback from a half-made Dask client."""
    pytest.importorskip("distributed")
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    europe = Path(__file__).parents[2] / "examples" / "europe" / "scenario.yaml"  # has risks
    for args in (("stress", "montecarlo", str(europe), "--samples", "2"),
                 ("stress", "tts", str(p))):
        r = fabnet(*args, "--scheduler", address)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stderr + r.stdout
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: Dask scheduler {address!r}")
        assert "fix: give the address" in lines[0]


@pytest.mark.parametrize("limit", ["inf", "1e300", "0", "nan"])
def test_a_mip_time_limit_past_a_week_or_not_positive_is_one_line(limit: str,
                                                                 tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = fabnet("plan", str(p), "--whole-units", "--mip-time-limit", limit)
    assert "Traceback" not in r.stderr + r.stdout
    if r.returncode == 2:  # refused by the option's own type (nan)
        assert "--mip-time-limit" in r.stderr
        return
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "mip time limit: must be > 0 and at most 604,800" in lines[0]
