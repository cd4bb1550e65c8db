#!/usr/bin/env python3
"""HuggingFace `tokenizers` fixtures for algo's readers of real tokenizer files (issue 14).

What it writes (into `fixtures/hf/`, committed; `swift test` compares against them without Python):

* `bpe/vocab.json`, `bpe/merges.txt`, `bpe/tokenizer.json`: a byte-level BPE (GPT-2's scheme:
  `ByteLevelBPETokenizer`, no prefix space) trained on `Algorithms/Experiments/data/prose.txt`
  with a vocabulary of 1000 and the special token `<|endoftext|>`.
* `wordpiece/vocab.txt`, `wordpiece/tokenizer.json`: a BERT WordPiece (`BertWordPieceTokenizer`,
  lowercasing, accents stripped) trained on the same text, vocabulary 800, special tokens
  [PAD] [UNK] [CLS] [SEP] [MASK], and bert-base-uncased's post-processor ([CLS] text [SEP]).
* `encodings.json`: for every sentence of `SENTENCES` (Unicode, emoji, runs of spaces and
  newlines, tabs, contractions, digits, CJK, accents, control characters, the special token's
  text), each tokenizer's ids (0-based, as HF gives them) without and with special tokens, the
  token strings, and HF's decode of the ids without special tokens.

Run: `python3 Tests/Reference/hf_tokenizers.py` (needs `pip install tokenizers`; written with
tokenizers 0.23.3). Deterministic: training in `tokenizers` is deterministic for a fixed input.
"""
import json
import os

import tokenizers
from tokenizers import ByteLevelBPETokenizer, BertWordPieceTokenizer, Tokenizer, processors

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "Algorithms", "Experiments", "data", "prose.txt")
OUT = os.path.join(HERE, "fixtures", "hf")

SENTENCES = [
    "The model reads the next token.",
    "Each head embeds the query and the key quickly.",
    "",
    " ",
    "   leading spaces and trailing   ",
    "two  spaces,   three   spaces and\ttabs\t\tdone",
    "lines\nand\n\nblank lines\n\n\n",
    "\n starts with a newline",
    "Don't you think it's the model's job? We'll see; they've, I'm, you're, he'd.",
    "DON'T SHOUT'S",
    "numbers 12345 and 3.14159, 1,000,000 and 2nd 3rd",
    "Café déjà vu — naïve coöperation, Ångström, façade.",
    "Emoji: 🤗 😀👍🏽 🇫🇷 👩‍👩‍👧 ok",
    "日本語のテキストと中文文本。",
    "Ελληνικά και русский текст, עברית, العربية",
    "math: ∑_{i=1}^{n} x² ≤ ∞, α→β ⊙ γ",
    "non\u00a0breaking\u2003em space\u3000ideographic",
    "control\u0007bell and zero\u200bwidth and soft\u00adhyphen",
    "<|endoftext|>The next document<|endoftext|>",
    "punctuation!!! ??? ... --- (parens) [brackets] {braces} \"quotes\" 'single'",
    "tHe TrAnSfOrMeR StAcKs",
    "a" * 120,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
]


def encodings(tok, with_special_default):
    out = []
    for s in SENTENCES:
        plain = tok.encode(s, add_special_tokens=False)
        special = tok.encode(s, add_special_tokens=True)
        out.append({
            "text": s,
            "ids": plain.ids,
            "ids_with_special": special.ids,
            "tokens": plain.tokens,
            "decoded": tok.decode(plain.ids, skip_special_tokens=True),
        })
    return out


def main():
    with open(CORPUS, encoding="utf-8") as f:
        lines = f.read().splitlines()

    bpe_dir = os.path.join(OUT, "bpe")
    os.makedirs(bpe_dir, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(lines, vocab_size=1000, min_frequency=2, special_tokens=["<|endoftext|>"], show_progress=False)
    bpe.save_model(bpe_dir)
    bpe.save(os.path.join(bpe_dir, "tokenizer.json"))
    bpe_loaded = Tokenizer.from_file(os.path.join(bpe_dir, "tokenizer.json"))

    wp_dir = os.path.join(OUT, "wordpiece")
    os.makedirs(wp_dir, exist_ok=True)
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(lines, vocab_size=800, min_frequency=2, show_progress=False,
                           special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    # As bert-base-uncased's tokenizer.json: [CLS] … [SEP] around a text.
    wp.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", wp.token_to_id("[CLS]")), ("[SEP]", wp.token_to_id("[SEP]"))])
    wp.save_model(wp_dir)
    wp.save(os.path.join(wp_dir, "tokenizer.json"))
    wp_loaded = Tokenizer.from_file(os.path.join(wp_dir, "tokenizer.json"))

    result = {
        "tokenizers_version": tokenizers.__version__,
        "bpe": encodings(bpe_loaded, False),
        "wordpiece": encodings(wp_loaded, True),
    }
    with open(os.path.join(OUT, "encodings.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
