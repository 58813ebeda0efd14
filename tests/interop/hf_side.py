"""The Hugging Face side of rgrid's interop tests (real transformers, tokenizers, torch in .venv).

  check-rgrid CKPT RGRID_JSONL GOLDEN_DIR
                                 (a) a checkpoint fine-tuned and saved by rgrid loads with
                                 AutoModelForSequenceClassification / AutoTokenizer.from_pretrained
                                 (local folder, offline); same ids and logits (max |diff| <= 1e-5)
                                 as rgrid computed (tests/interop/rgrid_side.cpp finetune)
  train OUT GOLDEN_DIR           (b) a tiny BertForSequenceClassification over the bert-base-uncased
                                 vocabulary, a few HF Trainer steps, save_pretrained(OUT) with its
                                 tokenizer, and OUT/hf_logits.jsonl: text, ids and logits of every
                                 golden that fits one 512-token window (rgrid_side check-hf reads it)
  tokenizer-json TOKENIZER_JSON RGRID_JSONL GOLDEN_DIR
                                 (c) the `tokenizers` library with the package's tokenizer.json gives
                                 the ids rgrid gave (rgrid_side encode) on every golden
Exit status: 0 pass, 1 mismatch.
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def goldens(golden_dir):
    texts = []
    for f in ("golden_public.jsonl", "golden_windows.jsonl"):
        with open(os.path.join(golden_dir, f), encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def check_rgrid(ckpt, rgrid_jsonl, golden_dir):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    torch.set_num_threads(1)
    model = AutoModelForSequenceClassification.from_pretrained(ckpt, local_files_only=True).eval()
    tok = AutoTokenizer.from_pretrained(ckpt, local_files_only=True)
    assert type(model).__name__ == "BertForSequenceClassification", type(model)
    want = read_jsonl(rgrid_jsonl)
    texts = goldens(golden_dir)
    assert len(want) == len(texts), (len(want), len(texts))
    bad_ids, worst = 0, 0.0
    with torch.no_grad():
        for text, w in zip(texts, want):
            enc = tok(text, truncation=True, max_length=512, return_tensors="pt")
            ids = enc["input_ids"][0].tolist()
            if ids != w["ids"]:
                bad_ids += 1
                continue
            logits = model(**enc).logits[0]
            worst = max(worst, float((logits - torch.tensor(w["logits"])).abs().max()))
    print(f"check-rgrid: {type(tok).__name__} + {type(model).__name__} from {ckpt}: {len(texts)} goldens, "
          f"{bad_ids} id mismatches, max |logits - rgrid| = {worst:.3g} (tol 1e-5)")
    return 0 if bad_ids == 0 and worst <= 1e-5 else 1


def train(out, golden_dir):
    import torch
    from transformers import (AutoTokenizer, BertConfig, BertForSequenceClassification, DataCollatorWithPadding,
                              Trainer, TrainingArguments)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(golden_dir, local_files_only=True)  # bert-base-uncased
    assert len(tok) == 30522, len(tok)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=512, id2label={0: "ham", 1: "spam"},
                     label2id={"ham": 0, "spam": 1})
    model = BertForSequenceClassification(cfg)
    texts = goldens(golden_dir)

    class Data(torch.utils.data.Dataset):
        def __init__(self, items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            enc = tok(self.items[i], truncation=True, max_length=64)
            enc["labels"] = i % 2
            return enc

    args = TrainingArguments(output_dir=os.path.join(out, "hf_trainer"), per_device_train_batch_size=8,
                             learning_rate=1e-3, max_steps=6, logging_steps=100, save_strategy="no",
                             report_to=[], use_cpu=True, seed=0, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=Data(texts[:48]),
                      data_collator=DataCollatorWithPadding(tok))
    result = trainer.train()
    model.eval()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    rows = 0
    with torch.no_grad(), open(os.path.join(out, "hf_logits.jsonl"), "w", encoding="utf-8") as fh:
        for text in texts:
            enc = tok(text, return_tensors="pt")
            if enc["input_ids"].shape[1] > 512:
                continue  # several windows in rgrid: compare single-window documents only
            logits = model(**enc).logits[0].tolist()
            fh.write(json.dumps({"text": text, "ids": enc["input_ids"][0].tolist(), "logits": logits}) + "\n")
            rows += 1
    print(f"train: {result.global_step} HF Trainer steps (loss {result.training_loss:.4f}), saved to {out}: "
          f"{sorted(os.listdir(out))}; {rows} goldens in hf_logits.jsonl")
    return 0


def tokenizer_json(tokenizer_path, rgrid_jsonl, golden_dir):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tokenizer_path)
    tok.no_truncation()
    tok.no_padding()
    texts = goldens(golden_dir)
    got = read_jsonl(rgrid_jsonl)
    assert len(got) == len(texts), (len(got), len(texts))
    bad = 0
    for i, (text, g) in enumerate(zip(texts, got)):
        ids = tok.encode(text).ids
        if ids != g["ids"]:
            bad += 1
            if bad <= 3:
                print(f"golden {i}: tokenizers {ids[:20]}... rgrid {g['ids'][:20]}...", file=sys.stderr)
    print(f"tokenizer-json: {len(texts)} goldens through {tokenizer_path}: {bad} mismatches")
    return 0 if bad == 0 else 1


def main(argv):
    if len(argv) == 4 and argv[0] == "check-rgrid":
        return check_rgrid(argv[1], argv[2], argv[3])
    if len(argv) == 3 and argv[0] == "train":
        return train(argv[1], argv[2])
    if len(argv) == 4 and argv[0] == "tokenizer-json":
        return tokenizer_json(argv[1], argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
