#!/usr/bin/env python3
"""Writes prose.txt, the training text of CharGPT.algo: a few hundred KB of English sentences about
the transformer algorithms, generated from a small seeded grammar (no downloads, reproducible:
`python3 make_prose.py > prose.txt` writes the committed file byte for byte).

The text has what a character-level model can learn in minutes: a small vocabulary of words,
spelling, spaces, capitals after a full stop, commas, and recurring phrases."""
import random

rng = random.Random(2022)

subjects = ["the transformer", "the encoder", "the decoder", "the attention layer", "each head",
            "the model", "the network", "the token embedding", "the layer norm", "the training loop",
            "a small model", "the paper", "the algorithm", "every layer", "the optimiser"]
verbs = ["maps", "reads", "predicts", "learns", "attends to", "updates", "normalises", "embeds",
         "samples", "computes", "combines", "masks", "returns", "stacks", "scales"]
objects = ["the next token", "the context", "each position", "the parameters", "a sequence of tokens",
           "the hidden state", "the previous layer", "the output distribution", "the query and the key",
           "the whole vocabulary", "the current word", "a matrix of columns", "the learning rate",
           "the residual stream", "the gradient of the loss"]
adverbs = ["quickly", "slowly", "carefully", "in parallel", "one column at a time", "again",
           "with a softmax", "without a loop", "at every step", "as written"]
openers = ["In short,", "First,", "Then", "After that,", "Finally,", "As a rule,", "In practice,",
           "Of course,", "Step by step,", "For this reason,"]
clauses = ["because the loss falls", "while the weights change", "so that the sum is one",
           "when the mask is zero", "since the columns are tokens", "until the end token appears",
           "if the model is trained", "before the next layer starts"]


def sentence():
    s = rng.choice(subjects) + " " + rng.choice(verbs) + " " + rng.choice(objects)
    r = rng.random()
    if r < 0.35:
        s += " " + rng.choice(adverbs)
    elif r < 0.6:
        s += ", " + rng.choice(clauses)
    if rng.random() < 0.3:
        s = rng.choice(openers) + " " + s
    return s[0].upper() + s[1:] + "."


def paragraph():
    return " ".join(sentence() for _ in range(rng.randint(3, 7)))


def main(target_bytes=240_000):
    out, size = [], 0
    while size < target_bytes:
        p = paragraph()
        out.append(p)
        size += len(p) + 1
    print("\n".join(out))


if __name__ == "__main__":
    main()
