"""bench/ stays runnable (issue 15: only what the benchmark needs, results out of git)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def test_run_py_help() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--rounds" in done.stdout


def test_the_hardening_variant_is_the_examples_stack() -> None:
    """The measured stack is read from example_project/settings.py, never guessed."""
    code = (
        "import json; from benchproj import stack; d = stack.describe(); "
        "print(json.dumps([d['middleware'], d['auth_classes'], d['example']]))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)])}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    middleware, auth, example = json.loads(done.stdout.splitlines()[-1])
    hardening = [path for path in example if path.startswith("hardening.")]
    assert hardening and [path for path in middleware if path.startswith("hardening.")] == hardening
    # the example's DRF classes: bearer tokens first, then API keys (rest_framework_settings())
    assert auth == [
        "hardening.authentication.BearerTokenAuthentication",
        "hardening.authentication.ApiKeyAuthentication",
    ]


def test_no_stand_ins_and_no_results_in_the_tree() -> None:
    names = {path.name for path in BENCH.rglob("*.py")}
    assert not names & {"standin.py", "whatif.py"}
    ignore = (BENCH / "results" / ".gitignore").read_text().splitlines()
    assert "*" in ignore and "!.gitignore" in ignore
