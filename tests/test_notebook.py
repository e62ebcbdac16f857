"""Every notebook in notebooks/ runs top to bottom (nbclient), so none of them rots.

Each runs in a temporary copy of the parts of the repository a newcomer's checkout has
(notebooks/, seeds/, queries/), with the working directory at the copy's notebooks/ as in Jupyter.
A notebook builds the graph itself into the copy's build/ when build/graph.trig is missing, so this
test also runs the real build on the seeds; it takes a while.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Generous: the first cell of a notebook may build the graph from the seeds.
TIMEOUT = 900


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    for folder in ("notebooks", "seeds", "queries"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, tmp_path / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "build"))
    notebook = nbformat.read(tmp_path / "notebooks" / path.name, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell and traceback, on any error
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert (tmp_path / "build" / "graph.trig").is_file()


def test_notebooks_are_stored_without_outputs() -> None:
    """Stored notebooks stay small and readable on GitHub: no outputs, no execution counts."""
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear the outputs"
