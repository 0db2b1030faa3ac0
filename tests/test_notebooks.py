"""The worked notebooks: each .ipynb matches its jupytext .py, carries no outputs, and runs.

The ``py:percent`` file is the reviewed source; the ``.ipynb`` is what a data scientist opens.
Running them here means a notebook that no longer works with the public API fails the tests.
They run in a kernel of the interpreter running the tests (a kernelspec written into
``tmp_path``), so a fresh virtual environment needs no registered kernel; their working folder
is ``tmp_path`` too, which must stay empty: notebooks keep their files (the MLflow store
included) in their own temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

# jupyter_core warns (DeprecationWarning) until the platformdirs paths are opted into; set it
# before any jupyter import so the warning is never raised, rather than filtering it.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

import ipykernel  # noqa: E402, F401  (the kernel the notebooks run in)
import jupytext  # noqa: E402
import nbclient  # noqa: E402
import nbformat  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("01_explore_creators", "02_retrain_on_your_labels", "03_brand_shortlist")
KERNEL = "creatorscore-tests"
CELL_TIMEOUT = 600  # seconds per cell; a hung kernel fails instead of stalling CI


def _cells(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def test_every_notebook_is_listed():
    pairs = {p.stem for p in NOTEBOOKS.glob("*.py")} | {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert pairs == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_ipynb_matches_py_and_has_no_outputs(name):
    text = jupytext.read(NOTEBOOKS / f"{name}.py")
    stored = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(stored)
    assert _cells(stored) == _cells(text), (
        f"{name}.ipynb is out of sync with {name}.py: run `jupytext --to ipynb notebooks/{name}.py`"
    )
    for cell in stored.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}.ipynb has outputs: strip them before committing"
            assert cell.execution_count is None
    assert stored.metadata.get("kernelspec", {}).get("language") == "python"


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> Path:
    """A Jupyter data folder whose only kernel starts this very interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "creatorscore tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, kernels, tmp_path, monkeypatch):
    # Kernels are looked up on JUPYTER_PATH first; nbclient then starts, owns and shuts down the
    # kernel (and closes its sockets) itself.
    monkeypatch.setenv(
        "JUPYTER_PATH",
        os.pathsep.join(filter(None, [str(kernels), os.environ.get("JUPYTER_PATH")])),
    )
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # a failing cell raises CellExecutionError with its traceback

    assert list(tmp_path.iterdir()) == [], "a notebook wrote into its working folder"
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Every notebook draws or prints what it explains; an empty run means cells did nothing.
    assert any(o.output_type in ("display_data", "execute_result", "stream") for o in outputs)
    warnings = [
        o.text
        for o in outputs
        if o.output_type == "stream" and o.name == "stderr" and "Warning" in o.text
    ]
    assert warnings == [], f"{name} printed warnings: {warnings}"
