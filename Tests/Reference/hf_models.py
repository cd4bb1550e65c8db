#!/usr/bin/env python3
"""HuggingFace model fixtures for `algo convert` and the shipped GPT-2 and BERT variants (issue 14).

What it writes (into `fixtures/hf/`, committed; `swift test` compares against them without Python):

* `gpt2/model.safetensors`, `gpt2/config.json`: a `GPT2LMHeadModel` (2 layers, 4 heads, d = 32,
  d_mlp = 128, 32 positions, the 648-token vocabulary of `fixtures/hf/bpe`), GPT-2's real settings:
  `gelu_new` (tanh GELU), layer_norm_epsilon = 1e-5, lm_head tied to wte.
* `bert/model.safetensors`, `bert/config.json`: a `BertForMaskedLM` (2 layers, 4 heads, d = 32,
  d_mlp = 64, 32 positions, 2 token types, the vocabulary of `fixtures/hf/wordpiece`), BERT's real
  settings: exact GELU, layer_norm_eps = 1e-12, decoder tied to the word embeddings, output bias.
* `nanogpt/model.safetensors`: the GPT-2 model's weights as nanoGPT's `GPT` state dict names them
  (`transformer.h.0.attn.c_attn.weight`, nn.Linear layout [out, in], `lm_head.weight` left out
  because it is `transformer.wte.weight`), as `safetensors.torch.save_file` writes it.
* `gpt2/reference.safetensors`, `bert/reference.safetensors`, `nanogpt/reference.safetensors` (the
  GPT-2 weights with nanoGPT's exact GELU, i.e. HF's GPT-2 with activation_function = "gelu"): `input_ids` (0-based, as HF takes
  them; BERT also `token_type_ids`), `logits` and `probabilities` ([ℓ, N_V], row-major, float64)
  that HuggingFace's own forward pass gives in float64 on the stored float32 weights.

Parameters: HF's initialisation is near-uniform (std 0.02), which would make every probability
≈ 1/N_V and a wrong layer hard to see, so after construction every weight is redrawn from a seeded
torch generator: matrices and embeddings 𝒩(0, 0.3²), biases and β 𝒩(0, 0.1²), γ 1 + 𝒩(0, 0.1²).
Weights are stored in float32 (what real checkpoints hold); the reference runs the model in float64
on exactly those values.

Run: `/work/venv-models/bin/python Tests/Reference/hf_models.py` (needs `pip install torch
transformers safetensors`; written with torch 2.15, transformers 5.25).
"""
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "hf")


def redraw(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or name.endswith(".beta") or "LayerNorm.bias" in name or name.endswith("ln_1.bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "ln" in name.split(".")[-2] or "LayerNorm" in name:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)


def vocabulary_size(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["model"]["vocab"].__len__()


def reference(model_dir, cls, inputs, out_path):
    model = cls.from_pretrained(model_dir, torch_dtype=torch.float32).double().eval()
    with torch.no_grad():
        logits = model(**{k: torch.tensor([v]) for k, v in inputs.items()}).logits[0]
    probabilities = torch.softmax(logits, dim=-1)
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in inputs.items()}
    tensors["logits"] = logits.contiguous()
    tensors["probabilities"] = probabilities.contiguous()
    save_file(tensors, out_path)
    return logits


def main():
    torch.manual_seed(0)
    # GPT-2.
    gpt2_dir = os.path.join(OUT, "gpt2")
    os.makedirs(gpt2_dir, exist_ok=True)
    vocab = len(json.load(open(os.path.join(OUT, "bpe", "vocab.json"), encoding="utf-8")))
    config = GPT2Config(vocab_size=vocab, n_positions=32, n_embd=32, n_layer=2, n_head=4, n_inner=128,
                        activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True)
    gpt2 = GPT2LMHeadModel(config).eval()
    redraw(gpt2, 1)
    gpt2.save_pretrained(gpt2_dir, safe_serialization=True)
    encodings = json.load(open(os.path.join(OUT, "encodings.json"), encoding="utf-8"))
    ids = encodings["bpe"][0]["ids"] + encodings["bpe"][8]["ids"][:10]     # 17 tokens, < 32 positions
    reference(gpt2_dir, GPT2LMHeadModel, {"input_ids": ids}, os.path.join(gpt2_dir, "reference.safetensors"))

    # nanoGPT's names for the same weights (nanoGPT's GPT.from_pretrained does this renaming in reverse).
    nano = {}
    for k, v in gpt2.state_dict().items():
        if k.endswith(".attn.bias") or k.endswith(".attn.masked_bias") or k == "lm_head.weight":
            continue
        t = v.detach().clone()
        if any(k.endswith(s) for s in ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]):
            t = t.t()
        nano[k] = t.contiguous()
    os.makedirs(os.path.join(OUT, "nanogpt"), exist_ok=True)
    save_file(nano, os.path.join(OUT, "nanogpt", "model.safetensors"))
    # nanoGPT's model is GPT-2 with nn.GELU() (exact): HF's GPT-2 with activation_function="gelu" on the same weights.
    exact_dir = os.path.join(OUT, "nanogpt", "hf-exact-gelu")
    exact = GPT2LMHeadModel(GPT2Config(**{**gpt2.config.to_dict(), "activation_function": "gelu"})).eval()
    exact.load_state_dict(gpt2.state_dict())
    exact.save_pretrained(exact_dir, safe_serialization=True)
    reference(exact_dir, GPT2LMHeadModel, {"input_ids": ids}, os.path.join(OUT, "nanogpt", "reference.safetensors"))
    for f in os.listdir(exact_dir):
        os.remove(os.path.join(exact_dir, f))
    os.rmdir(exact_dir)

    # BERT.
    bert_dir = os.path.join(OUT, "bert")
    os.makedirs(bert_dir, exist_ok=True)
    wp = json.load(open(os.path.join(OUT, "wordpiece", "tokenizer.json"), encoding="utf-8"))
    config = BertConfig(vocab_size=len(wp["model"]["vocab"]), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=32, type_vocab_size=2, layer_norm_eps=1e-12,
                        hidden_act="gelu", tie_word_embeddings=True)
    bert = BertForMaskedLM(config).eval()
    redraw(bert, 2)
    bert.save_pretrained(bert_dir, safe_serialization=True)
    first = encodings["wordpiece"][0]["ids_with_special"]            # [CLS] … [SEP]
    second = encodings["wordpiece"][1]["ids_with_special"][1:]       # … [SEP]
    mask = wp["model"]["vocab"]["[MASK]"]
    ids = first + second
    ids[3] = mask                                                    # a masked position, as in MLM
    types = [0] * len(first) + [1] * len(second)
    reference(bert_dir, BertForMaskedLM, {"input_ids": ids, "token_type_ids": types}, os.path.join(bert_dir, "reference.safetensors"))
    for d in ["gpt2", "bert"]:
        extra = os.path.join(OUT, d, "generation_config.json")
        if os.path.exists(extra):
            os.remove(extra)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
