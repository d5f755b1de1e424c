"""notebooks/error_analysis.ipynb runs top to bottom against a real tiny model (as in CI), with the README's
command from the repository root, and saves an executed copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.tiny_models import build_tiny_transformer
from support.training_data import tiny_frame

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "error_analysis.ipynb"
# The README's command, with the tiny model in place of the champion.
COMMAND = "jupyter execute notebooks/error_analysis.ipynb --output=../data/processed/error_analysis"


@pytest.mark.slow
def test_error_analysis_notebook_runs_from_the_repo_root(tmp_path: Path) -> None:
    import nbformat

    root = tmp_path / "clone"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(NOTEBOOK, root / "notebooks")
    shutil.copy(NOTEBOOK.parents[1] / "params.yaml", root)
    model = build_tiny_transformer(root / "models" / "tiny", max_length=32, thresholds={
        "hate_speech": 0.5, "abusive": 0.4, "divisive_label": 0.6, "incitement": 0.5})
    (root / "data" / "processed").mkdir(parents=True)
    tiny_frame(40).to_parquet(root / "data" / "processed" / "test.parquet", index=False)  # the default EVAL_DATA
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PANTAU_MODEL": str(model.relative_to(root)), "PANTAU_N_WORST": "3"}
    proc = subprocess.run(COMMAND, shell=True, cwd=root, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]

    saved = root / "data" / "processed" / "error_analysis.ipynb"
    assert saved.exists(), sorted(str(p.relative_to(root)) for p in root.rglob("*.ipynb"))
    nb = nbformat.read(saved, as_version=4)
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "40 posts" in text and "threshold for precision" in text and "mention/literal" in text
    html = "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "false positive" in html or "false negative" in html
    assert any("image/png" in o.get("data", {}) for o in outputs)
    # The notebook in the repository stays as it is (no outputs written into it).
    assert not any(c.get("outputs") for c in nbformat.read(root / "notebooks" / NOTEBOOK.name, as_version=4).cells
                   if c.cell_type == "code")
