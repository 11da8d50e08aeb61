"""Fixtures of the Python package's tests: the dongne binary (to compare
with), the shared real data and the repository. Each fails loudly when
missing: a test that cannot run must not pass."""

import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO


@pytest.fixture(scope="session")
def shared() -> pathlib.Path:
    p = pathlib.Path(os.environ.get("DONGNE_SHARED_DATA", REPO.parent / "shared" / "data"))
    assert p.is_dir(), f"real data not found at {p} (set DONGNE_SHARED_DATA)"
    return p


@pytest.fixture(scope="session")
def dongne_bin() -> pathlib.Path:
    p = pathlib.Path(os.environ.get("DONGNE_BIN", REPO / "target" / "release" / "dongne"))
    assert p.is_file(), f"dongne binary not found at {p}: run cargo build --release (or set DONGNE_BIN)"
    return p


@pytest.fixture(scope="session")
def cli(dongne_bin):
    """Runs the dongne binary; returns its stderr; fails with it on a non-zero exit."""

    def run(*args, cwd=None):
        r = subprocess.run([str(dongne_bin), "-q", *map(str, args)], capture_output=True, text=True, cwd=cwd)
        assert r.returncode == 0, f"dongne {' '.join(map(str, args))}: {r.stderr}"
        return r.stderr

    return run
