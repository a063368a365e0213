"""Run entry points one after another in ONE process, each as ``python <script> <args>`` would.

``python tests/integration/cli_driver.py cases.json results.json``: every case is
``{"script", "args", "cwd", "env"}``; the script runs as ``__main__`` with that ``sys.argv``,
working directory and environment, its stdout and stderr (file descriptors 1 and 2) captured and
its exit status taken from ``SystemExit`` (0 when it returns). The imports (torch, Lightning,
Hydra) are paid once for all cases, which is what makes a dozen command-line runs affordable.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import tempfile
import traceback
from pathlib import Path


def run_case(case: dict) -> dict:
    from hydra.core.global_hydra import GlobalHydra

    saved_env, saved_cwd, saved_argv = dict(os.environ), os.getcwd(), sys.argv
    saved_fds = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.environ.update(case.get("env", {}))
        os.chdir(case["cwd"])
        sys.argv = [case["script"], *case["args"]]
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            runpy.run_path(case["script"], run_name="__main__")
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            sys.argv = saved_argv
            GlobalHydra.instance().clear()
        out.seek(0)
        err.seek(0)
        return {
            "returncode": code,
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    results = [run_case(case) for case in cases]
    Path(sys.argv[2]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
