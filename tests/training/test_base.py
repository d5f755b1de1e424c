"""Base-model resolution: local folders, the offline e5 import, Hub ids that fail fast without a Hub."""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pantau.training.base import (
    OFFLINE_BASE,
    BaseModelError,
    cached_snapshot,
    hub_reachable,
    resolve_base_model,
)

HUB_ID = "indobenchmark/indobert-base-p1"


def assert_names_offline_option(message: str) -> None:
    assert f"model.base: {OFFLINE_BASE}" in message
    assert "pantau base import-e5" in message


@pytest.fixture()
def silent_server() -> Iterator[str]:
    """A TCP endpoint that accepts connections (kernel backlog) but never answers: a hanging Hub."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture()
def answering_server() -> Iterator[str]:
    """A real HTTP server standing in for a reachable Hub endpoint."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def hf_cache(tmp_path: Path, tiny_base_dir: Path) -> Path:
    """A Hugging Face cache (real layout) holding HUB_ID's main revision: the tiny base model's files."""
    repo = tmp_path / "hub" / ("models--" + HUB_ID.replace("/", "--"))
    revision = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for item in tiny_base_dir.iterdir():
        shutil.copy2(item, snapshot / item.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision, encoding="utf-8")
    return tmp_path / "hub"


def test_local_folder_is_returned_as_is(tiny_base_dir: Path) -> None:
    assert resolve_base_model(str(tiny_base_dir), offline_dir=Path("unused")) == tiny_base_dir


def test_local_folder_without_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(BaseModelError, match="no config.json"):
        resolve_base_model(str(tmp_path), offline_dir=Path("unused"))
    with pytest.raises(BaseModelError, match="is a file"):
        resolve_base_model(str(tmp_path / "weights.bin"), offline_dir=Path("unused"))


def test_missing_path_is_not_mistaken_for_a_hub_id(tmp_path: Path) -> None:
    for base in (str(tmp_path / "nope"), "./models/nope", "models/base/nope"):
        with pytest.raises(BaseModelError, match="does not exist"):
            resolve_base_model(base, offline_dir=Path("unused"), offline=True)
    with pytest.raises(BaseModelError, match="empty"):
        resolve_base_model("  ", offline_dir=Path("unused"))
    with pytest.raises(BaseModelError, match="neither a folder nor a Hub id"):
        resolve_base_model("not a model!", offline_dir=Path("unused"))


def test_offline_base_uses_an_existing_folder_without_importing(tiny_base_dir: Path) -> None:
    before = (tiny_base_dir / "model.safetensors").stat().st_mtime_ns
    assert resolve_base_model(OFFLINE_BASE, offline_dir=tiny_base_dir) == tiny_base_dir
    assert (tiny_base_dir / "model.safetensors").stat().st_mtime_ns == before


def test_offline_base_refuses_a_non_empty_folder_without_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(BaseModelError, match="import-e5"):
        resolve_base_model(OFFLINE_BASE, offline_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.slow
def test_offline_base_is_imported_when_missing(tmp_path: Path) -> None:
    from transformers import AutoConfig

    target = tmp_path / "models" / "base" / "e5-small"
    assert resolve_base_model(OFFLINE_BASE, offline_dir=target) == target
    assert AutoConfig.from_pretrained(str(target)).hidden_size == 384
    assert (target / "pantau_provenance.json").is_file()


def test_hub_id_in_offline_mode_fails_at_once_naming_the_offline_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(BaseModelError) as err:
        resolve_base_model(HUB_ID, offline_dir=Path("unused"), cache_dir=tmp_path)
    assert time.perf_counter() - start < 2
    assert_names_offline_option(str(err.value))
    assert HUB_ID in str(err.value)


def test_hub_id_with_a_hanging_hub_fails_in_seconds(tmp_path: Path, silent_server: str) -> None:
    start = time.perf_counter()
    with pytest.raises(BaseModelError) as err:
        resolve_base_model(
            HUB_ID,
            offline_dir=Path("unused"),
            endpoint=silent_server,
            cache_dir=tmp_path,
            offline=False,
            hub_timeout=1,
        )
    elapsed = time.perf_counter() - start
    assert 0.9 < elapsed < 10, elapsed  # it did wait for the Hub, and only briefly
    assert_names_offline_option(str(err.value))
    assert "not reachable" in str(err.value)


def test_hub_id_with_this_machines_hub_fails_in_seconds(tmp_path: Path) -> None:
    """The real default endpoint: unreachable on CI and dev machines (offline first)."""
    from huggingface_hub import constants

    if hub_reachable(constants.ENDPOINT, timeout=3):
        pytest.skip("the Hugging Face Hub is reachable from here")
    start = time.perf_counter()
    with pytest.raises(BaseModelError) as err:
        resolve_base_model(HUB_ID, offline_dir=Path("unused"), cache_dir=tmp_path, offline=False)
    assert time.perf_counter() - start < 10
    assert_names_offline_option(str(err.value))


def test_reachable_hub_returns_the_id_for_from_pretrained(tmp_path: Path, answering_server: str) -> None:
    resolved = resolve_base_model(
        HUB_ID, offline_dir=Path("unused"), endpoint=answering_server, cache_dir=tmp_path, offline=False
    )
    assert resolved == HUB_ID and isinstance(resolved, str)


def test_cached_hub_model_is_used_without_the_hub(hf_cache: Path, silent_server: str) -> None:
    from transformers import AutoModel

    snapshot = cached_snapshot(HUB_ID, cache_dir=hf_cache)
    assert snapshot is not None and (snapshot / "config.json").is_file()
    # Offline mode: the cached snapshot folder, at once.
    assert (
        resolve_base_model(HUB_ID, offline_dir=Path("unused"), cache_dir=hf_cache, offline=True) == snapshot
    )
    # Online but the Hub hangs: the cached copy after the short probe.
    start = time.perf_counter()
    resolved = resolve_base_model(
        HUB_ID,
        offline_dir=Path("unused"),
        endpoint=silent_server,
        cache_dir=hf_cache,
        offline=False,
        hub_timeout=1,
    )
    assert resolved == snapshot and time.perf_counter() - start < 10
    model = AutoModel.from_pretrained(str(resolved))
    assert model.config.hidden_size == 32


def test_hub_probe_answers_false_quickly_for_refused_and_silent_endpoints(silent_server: str) -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    refused = f"http://127.0.0.1:{free.getsockname()[1]}"
    free.close()
    start = time.perf_counter()
    assert hub_reachable(refused, timeout=1) is False
    assert hub_reachable(silent_server, timeout=1) is False
    assert time.perf_counter() - start < 5


def test_tiny_base_dir_has_the_real_tokenizer(tiny_base_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_base_dir))
    model = AutoModel.from_pretrained(str(tiny_base_dir))
    batch = tokenizer(["Dasar cebong 😂", "halo"], padding=True, return_tensors="pt")
    assert tokenizer.convert_ids_to_tokens(batch["input_ids"][0])[:4] == ["<s>", "▁Dasar", "▁ce", "bong"]
    assert batch["input_ids"][1, -1].item() == tokenizer.pad_token_id == model.config.pad_token_id == 1
    out = model(**batch).last_hidden_state
    assert out.shape == (2, batch["input_ids"].shape[1], 32)
    assert model.config.num_hidden_layers == 2 and model.config.num_attention_heads == 2
