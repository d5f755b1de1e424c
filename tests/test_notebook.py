"""notebooks/error_analysis.ipynb runs top to bottom against a real tiny model (as in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tiny_models import build_tiny_transformer
from support.training_data import tiny_frame

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "error_analysis.ipynb"


@pytest.mark.slow
def test_error_analysis_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    model = build_tiny_transformer(tmp_path / "model", max_length=32, thresholds={
        "hate_speech": 0.5, "abusive": 0.4, "divisive_label": 0.6, "incitement": 0.5})
    data = tmp_path / "test.parquet"
    tiny_frame(40).to_parquet(data, index=False)
    monkeypatch.setenv("PANTAU_MODEL", str(model))
    monkeypatch.setenv("PANTAU_EVAL_DATA", str(data))
    monkeypatch.setenv("PANTAU_N_WORST", "3")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parents[1])}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "40 posts" in text and "threshold for precision" in text and "mention/literal" in text
    html = "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "false positive" in html or "false negative" in html
    assert any("image/png" in o.get("data", {}) for o in outputs)
