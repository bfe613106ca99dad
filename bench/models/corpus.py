"""The karpathy_gpt2 corpus and batch sampler, shared by the Python MLX and
PyTorch scripts. Must produce exactly what bench/models/harness.rb
(MLXBench::Corpus) produces: a deterministic pseudo-English text written by
this project (sentences drawn from a small word list by a 31-bit LCG), its
vocabulary (the distinct characters, sorted), a 90/10 train/validation split,
and batch windows chosen by the same LCG, so that every language trains on
the same batches."""

WORDS = (
    "the a one every small old quiet bright green cold warm dark brown lazy quick "
    "fox dog cat bird river tree town house garden field lake hill window road boat "
    "child teacher farmer sailor baker runs walks sings reads writes sees builds "
    "finds carries follows crosses watches opens and but while because near under "
    "over through behind across into from with without before after morning "
    "evening night day rain wind sun light water stone bread letter song story"
).split()
PUNCTUATION = [".", ".", ".", "!", "?"]
CORPUS_CHARS = 60_000


class Lcg:
    """x' = (1103515245 x + 12345) mod 2^31; next_below(n) uses the high bits."""

    def __init__(self, seed):
        self.state = seed & 0x7FFFFFFF

    def next(self):
        self.state = (1103515245 * self.state + 12345) & 0x7FFFFFFF
        return self.state

    def next_below(self, n):
        return (self.next() >> 8) % n


def text(chars=CORPUS_CHARS, seed=2024):
    rng = Lcg(seed)
    parts = []
    size = 0
    while size < chars:
        count = 4 + rng.next_below(9)
        words = [WORDS[rng.next_below(len(WORDS))] for _ in range(count)]
        words[0] = words[0].capitalize()
        sentence = " ".join(words) + PUNCTUATION[rng.next_below(len(PUNCTUATION))]
        sentence += "\n" if rng.next_below(4) == 0 else " "
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)[:chars]


def dataset():
    """(vocab_size, train ids, validation ids)."""
    corpus = text()
    vocab = sorted(set(corpus))
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in corpus]
    cut = int(len(ids) * 0.9)
    return len(vocab), ids[:cut], ids[cut:]


class Batches:
    """B random windows of length S (inputs) and the windows shifted by one
    (next-character targets), as nested lists."""

    def __init__(self, data, batch, seq, seed=7):
        self.data = data
        self.batch = batch
        self.seq = seq
        self.rng = Lcg(seed)

    def next(self):
        span = len(self.data) - self.seq - 1
        starts = [self.rng.next_below(span) for _ in range(self.batch)]
        x = [self.data[s:s + self.seq] for s in starts]
        y = [self.data[s + 1:s + 1 + self.seq] for s in starts]
        return x, y
