"""LoRA + DPO fine-tuning with trl's DPOTrainer and a peft adapter; resumable, with the compass in the loop.

The reference model is the base with the adapter disabled (trl does this when given a peft config), so there
is no second copy in memory. Prompts use the model's chat template or the Alpaca template (`train.prompt_format`,
see politune.pairs). With `precompute_ref_log_probs` the frozen reference runs once per pair before training.

Checkpoints: with `train.checkpoint_every` > 0 and a `checkpoint_dir`, the adapter, optimizer, scheduler and
RNG states are saved every N optimizer steps; a later call with the same folder resumes from the last complete
checkpoint (the one whose trainer_state.json, written last, parses) and continues the step count and the loss
curve. Work since that checkpoint is redone. Checkpoint files are loaded by transformers with
`torch.load(weights_only=True)`: no pickled code runs.

Compass probe: with `train.compass_every` > 0 and a probe, the instrument is scored (one prompt variant,
answer log-probs) before the first step and every N steps; the coordinates go into the trainer's log history,
so they survive a resume and become a curve.

Assumes: pairs fit in `max_length` tokens. Longer ones are truncated by trl (keep_start) and pairs whose
prompt alone fills max_length are dropped by trl; both are counted here first (`pairs_truncated`,
`pairs_prompt_too_long`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from politune.frozen_prefix import FrozenPrefixCache, reuse_frozen_prefix
from politune.hashing import sha256_file, sha256_json
from politune.io import disk_full, disk_full_errno, read_jsonl
from politune.models import base_manifest, load_model, load_tokenizer, resolve_dtype
from politune.pairs import check_format, render_pair, to_training_rows
from politune.params import Params, TrainParams
from politune.records import Pair

log = logging.getLogger(__name__)

Probe = Callable[[Any], dict[str, float]]  # model -> {"economic": .., "social": ..}
LN2 = math.log(2)


def last_complete_checkpoint(folder: str | Path) -> Path | None:
    """The highest checkpoint-N folder whose trainer_state.json (the trainer writes it last) parses."""
    folder = Path(folder)
    if not folder.is_dir():
        return None

    def complete(p: Path) -> bool:
        try:  # trainer_state.json is written last, but not atomically: a kill can leave half of it
            json.loads((p / "trainer_state.json").read_text())
            return True
        except (OSError, ValueError):
            return False

    done = [p for p in folder.glob("checkpoint-*") if re.fullmatch(r"checkpoint-\d+", p.name) and complete(p)]
    return max(done, key=lambda p: int(p.name.split("-")[1]), default=None)


def checkpoint_fingerprint(
    train: TrainParams,
    dtype: str,
    source: str,
    weights: str,
    pair_files: list[Path],
    instrument: str | Path | None,
) -> str:
    """sha256 of everything that decides a training run's result: the train params, the dtype it runs in, the
    base model (`source` in params and `weights`, its materialized manifest, politune.models.base_manifest),
    the bytes of the pair files and of the compass-probe instrument (None: no probe). Checkpoints made under
    another fingerprint are not resumed from (checkpoint_dir)."""
    return sha256_json(
        {
            "train": train.model_dump(),
            "dtype": dtype,
            "source": source,
            "weights": weights,
            "pairs": [sha256_file(f) for f in pair_files],
            "instrument": sha256_file(instrument) if instrument else None,
        }
    )


def checkpoint_dir(folder: str | Path, fp: str) -> Path:
    """`folder` made ready for train_dpo's checkpoints under fingerprint `fp`: emptied first when it holds
    checkpoints made from other inputs (or of unknown inputs), then stamped with `fp` (fingerprint.txt)."""
    folder = Path(folder)
    stamp = folder / "fingerprint.txt"
    if folder.exists() and (not stamp.exists() or stamp.read_text().strip() != fp):
        log.warning("%s holds checkpoints of a run with other params or data; starting over", folder)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fp + "\n")
    return folder


def world_size() -> int:
    """Processes in this run: 1, or as many as `accelerate launch` / torchrun started."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def _dataset(rows: list[dict[str, Any]], folder: Path) -> Any:
    """A datasets.Dataset of `rows`. With several processes it lives on disk in `folder` (rank 0 writes it, the
    others load it): trl caches the reference log-probs it precomputes beside the dataset's files and every rank
    reads rank 0's cache file, which a per-process in-memory dataset would put in a temporary folder of its own."""
    from datasets import Dataset, load_from_disk

    if world_size() == 1:
        return Dataset.from_list(rows)
    if is_main_process():
        shutil.rmtree(folder, ignore_errors=True)
        Dataset.from_list(rows).save_to_disk(str(folder))
    wait_for_main_process()
    return load_from_disk(str(folder))


def is_main_process() -> bool:
    """Whether this process writes outputs: always, except under `accelerate launch` (or torchrun) with several
    processes, where only rank 0 does."""
    return int(os.environ.get("RANK", "0")) == 0


def wait_for_main_process() -> None:
    """Under `accelerate launch` with several processes, wait until every process (rank 0 included, which
    prepares the checkpoint folder) gets here; a no-op in a single process."""
    if world_size() > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()


CURVE_KEYS = (
    "loss",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracies",
    "learning_rate",
    "compass/economic",
    "compass/social",
)


def curve_points(history: list[dict[str, Any]]) -> list[tuple[int, dict[str, float]]]:
    """The trainer's log history as training curves: (step, {"train/<key>": value}) per training-log row that has
    any of CURVE_KEYS ("/" in a key becomes "_"), in order; evaluation rows (eval_loss) are left out."""
    points = []
    for row in history:
        if "eval_loss" in row or not any(k in row for k in CURVE_KEYS):
            continue
        points.append(
            (int(row["step"]), {f"train/{k.replace('/', '_')}": row[k] for k in CURVE_KEYS if k in row})
        )
    return points


def compass_probe(
    instrument: Any,
    tokenizer: Any,
    templates: list[str] | None = None,
    reverse_order: bool = False,
    batch_size: int = 16,
) -> Probe:
    """A probe that scores `instrument` with answer log-probs, over the prompt variants templates x option
    orders pooled per item as in the evaluate stage's headline (default: the statement template alone, options
    in order: one variant, the cheapest)."""
    from politune.compass.evaluate import evaluate_instrument
    from politune.llm.transformers_backend import TransformersBackend
    from politune.params import EvaluateParams

    ep = EvaluateParams.model_validate(
        {
            "templates": templates or ["statement"],
            "reverse_order": reverse_order,
            "forced": True,
            "bootstrap": 0,
        }
    )

    def probe(model: Any) -> dict[str, float]:
        was_training = model.training
        model.eval()
        try:
            backend = TransformersBackend(
                model, tokenizer, model_id="compass-probe", batch_size=batch_size, progress=False
            )
            head, _ = evaluate_instrument(ep, backend, instrument)
        finally:
            model.train(was_training)
        return {"economic": float(head["economic"]), "social": float(head["social"])}

    return probe


def probe_from_params(p: Params, tokenizer: Any) -> Probe | None:
    """The compass probe that `train.compass_every` asks for (None when 0): evaluate.instrument, scored with the
    train.compass_templates x compass_reverse_order variants."""
    if not p.train.compass_every:
        return None
    from politune.compass.instrument import load_instrument

    t = p.train
    return compass_probe(
        load_instrument(p.evaluate.instrument),
        tokenizer,
        list(t.compass_templates),
        t.compass_reverse_order,
        p.evaluate.batch_size,
    )


def _callbacks(probe: Probe | None, every: int) -> list[Any]:
    from transformers import TrainerCallback

    class CompassCallback(TrainerCallback):
        def _score(self, state: Any, model: Any) -> None:
            if not is_main_process():  # once per run, not once per process: rank 0 writes the curves
                return
            t0 = time.time()
            coords = probe(model)  # type: ignore[misc]
            row = {
                "compass/economic": coords["economic"],
                "compass/social": coords["social"],
                "compass/seconds": round(time.time() - t0, 2),
                "step": state.global_step,
            }
            state.log_history.append(row)  # saved in every checkpoint's trainer_state.json
            log.info(
                "step %d compass: economic %+.3f social %+.3f",
                state.global_step,
                coords["economic"],
                coords["social"],
            )

        def on_train_begin(self, args, state, control, model=None, **kw):  # noqa: ANN001
            if state.global_step == 0:  # not again after a resume
                self._score(state, model)

        def on_step_end(self, args, state, control, model=None, **kw):  # noqa: ANN001
            if state.global_step % every == 0 or state.global_step == state.max_steps:
                self._score(state, model)

    return [CompassCallback()] if probe is not None and every > 0 else []


@contextmanager
def completion_only_lm_head() -> Iterator[bool]:
    """Within this block, trl's fused LM head (trl 1.16, `add_fused_lm_head`) projects only the positions that are
    scored (completion tokens) onto the vocabulary on CPU too, as it does on CUDA; yields whether it could.

    Why: on devices without Triton trl scores every position, prompt and padding included, so that the tile shapes
    stay fixed for compilers that recompile per shape (AWS Neuron). Eager CPU has no such cost, and the LM head
    (576 x 49,152 for SmolLM2, three matmuls per token in a training step) was 45% of a DPO step's time
    (docs/speed.md). The arithmetic per scored token is the same; only the rows of the matmul differ, so losses
    agree to float rounding (tests/unit/test_train.py guards it).

    How: trl decides this with a module-level `_use_triton(device)` in `trl.trainer.utils`, used there only for
    this choice (the kernels read their own copy); it is swapped for one that also answers yes for "cpu" and put
    back on exit. If a trl upgrade renames it, a warning says so and training runs as trl ships it (slower)."""
    try:
        import trl.trainer.utils as trl_utils
    except ImportError:  # pragma: no cover - trl is a dependency
        yield False
        return
    original = getattr(trl_utils, "_use_triton", None)
    if original is None or not hasattr(trl_utils, "add_fused_lm_head"):
        log.warning(
            "trl %s has no trl.trainer.utils._use_triton: the LM head scores every position (slower on CPU)",
            getattr(__import__("trl"), "__version__", "?"),
        )
        yield False
        return
    trl_utils._use_triton = lambda device: device.type == "cpu" or original(device)
    try:
        yield True
    finally:
        trl_utils._use_triton = original


def length_report(tokenizer: Any, pairs: list[Pair], fmt: str, max_length: int) -> dict[str, int]:
    """How many pairs trl will truncate (prompt + answer > max_length) or drop (prompt alone >= max_length)."""
    truncated = dropped = longest = 0
    for pair in pairs:
        r = render_pair(tokenizer, pair, fmt)  # type: ignore[arg-type]
        n_prompt = len(tokenizer(r["prompt"], add_special_tokens=False)["input_ids"])
        n_full = n_prompt + max(
            len(tokenizer(r[s], add_special_tokens=False)["input_ids"]) for s in ("chosen", "rejected")
        )
        longest = max(longest, n_full)
        dropped += n_prompt >= max_length
        truncated += n_prompt < max_length < n_full
    return {"pairs_truncated": truncated, "pairs_prompt_too_long": dropped, "longest_pair_tokens": longest}


def health(history: list[dict[str, float]], summary: dict[str, Any]) -> dict[str, Any]:
    """Warnings for degenerate DPO runs, from the logged curves and the held-out evaluation."""
    steps = [h for h in history if "loss" in h and "eval_loss" not in h]
    out: dict[str, Any] = {"warnings": []}
    if steps:
        tail = steps[-max(1, len(steps) // 4) :]
        tail_loss = sum(h["loss"] for h in tail) / len(tail)
        out["loss_last_quarter"] = round(tail_loss, 4)
        out["loss_stuck_near_ln2"] = abs(tail_loss - LN2) < 0.02
        if out["loss_stuck_near_ln2"]:
            out["warnings"].append(
                f"loss stuck near ln 2 ({tail_loss:.3f}): the model cannot tell chosen from "
                "rejected; check the pairs (identical sides, swapped columns, empty answers)"
            )
        head = [
            h["rewards/accuracies"] for h in steps[: max(1, len(steps) // 4)] if "rewards/accuracies" in h
        ]
        if head:
            out["reward_accuracy_first_quarter"] = round(sum(head) / len(head), 4)
    compass = [h for h in history if "compass/economic" in h]
    if len(compass) >= 2:
        move = max(
            abs(compass[-1][f"compass/{a}"] - compass[0][f"compass/{a}"]) for a in ("economic", "social")
        )
        out["compass_moved"] = round(move, 4)
        if out.get("reward_accuracy_first_quarter", 0) >= 0.95 and move < 0.05:
            out["warnings"].append(
                f"reward accuracy {out['reward_accuracy_first_quarter']:.2f} in the first quarter of training while "
                f"the compass moved only {move:.3f}: the pairs are easy to separate on surface features "
                "(off-policy collapse); expect little transfer to opinions"
            )
    acc = summary.get("eval_rewards_accuracies")
    if acc is not None:
        out["heldout_reward_accuracy"] = acc
        if acc < 0.6:
            out["warnings"].append(
                f"held-out reward accuracy {acc:.2f} (< 0.6): the preference did not generalise "
                "to the validation pairs"
            )
    for w in out["warnings"]:
        log.warning("train health: %s", w)
    return out


def train_dpo(
    model: Any,
    tokenizer: Any,
    train_pairs: list[Pair],
    val_pairs: list[Pair],
    p: TrainParams,
    dtype: str,
    work_dir: str | Path,
    probe: Probe | None = None,
    callbacks: list[Any] | None = None,
    compact_lm_head: bool = True,
) -> dict[str, Any]:
    """Train a LoRA adapter with DPO; return {model (peft), summary, history}.

    `work_dir` holds the checkpoints (with p.checkpoint_every > 0); if it already holds a complete one, training
    resumes from it. The caller decides whether that folder is still valid for these inputs (checkpoint_dir keys
    it by checkpoint_fingerprint, of params and data). `compact_lm_head`: score only completion tokens through
    the LM head on CPU (completion_only_lm_head; False = as trl ships, for comparisons). With
    `p.reuse_frozen_layers`, the frozen layers below the adapter run once per sequence (politune.frozen_prefix).
    """
    with ExitStack() as stack:
        compact = stack.enter_context(completion_only_lm_head()) if compact_lm_head else False
        cache = stack.enter_context(reuse_frozen_prefix(model)) if p.reuse_frozen_layers else None
        if cache is not None and probe is not None:
            probe = _paused_probe(probe, cache)
        out = _train_dpo(model, tokenizer, train_pairs, val_pairs, p, dtype, work_dir, probe, callbacks)
    out["summary"]["lm_head_completion_only"] = compact
    if cache is not None:
        out["summary"].update(cache.summary())
    return out


def train_from_params(
    p: Params, model_name: str, pairs_dir: str | Path, base: str | Path, work_dir: str | Path
) -> dict[str, Any] | None:
    """Train `model_name`'s adapter on the pairs in `pairs_dir` (train.jsonl, validation.jsonl) as params `p`
    say; return train_dpo's result plus its `dtype`, or None on a rank other than the main one (only rank 0
    writes). Checkpoints go to `work_dir`, keyed by a fingerprint of everything that decides the result, so a
    rerun resumes only when nothing changed. A full disk while checkpointing is reported naming `work_dir`."""
    pairs_dir = Path(pairs_dir)
    files = [pairs_dir / "train.jsonl", pairs_dir / "validation.jsonl"]
    train_pairs, val_pairs = read_jsonl(files[0]), read_jsonl(files[1])
    dtype = resolve_dtype(p.models[model_name].train_dtype)  # auto -> this machine's fast dtype
    model, tok = load_model(base, dtype), load_tokenizer(base)
    probe = probe_from_params(p, tok)
    src = p.models[model_name].source
    fp = checkpoint_fingerprint(
        p.train, dtype, src, base_manifest(base), files, p.evaluate.instrument if probe else None
    )
    if rank0 := is_main_process():
        checkpoint_dir(work_dir, fp)
    wait_for_main_process()  # several processes: resume only once rank 0 has checked
    try:
        res = train_dpo(model, tok, train_pairs, val_pairs, p.train, dtype, work_dir, probe)
    except Exception as e:  # the trainer's only writes are checkpoints: name their folder on a full disk
        if disk_full_errno(e):
            raise disk_full(e, [Path(work_dir)]) from e
        raise
    return {**res, "dtype": dtype} if rank0 else None


def save_adapter(model: Any, out: str | Path) -> None:
    """Save a peft adapter byte-stable: peft writes `target_modules` in set order, which changes with Python's
    hash seed, so the list is sorted (the same modules; the folder's hash no longer varies run to run)."""
    model.save_pretrained(out, safe_serialization=True)
    cfg_path = Path(out) / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    if isinstance(cfg.get("target_modules"), list):
        cfg["target_modules"] = sorted(cfg["target_modules"])
        cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def _paused_probe(probe: Probe, cache: FrozenPrefixCache) -> Probe:
    """The compass probe's prompts are not training data: keep them out of the frozen-layer cache."""

    def paused(model: Any) -> dict[str, float]:
        with cache.paused():
            return probe(model)

    return paused


def _train_dpo(
    model: Any,
    tokenizer: Any,
    train_pairs: list[Pair],
    val_pairs: list[Pair],
    p: TrainParams,
    dtype: str,
    work_dir: str | Path,
    probe: Probe | None,
    callbacks: list[Any] | None,
) -> dict[str, Any]:
    import torch
    from peft import LoraConfig
    from trl import DPOConfig, DPOTrainer

    if not train_pairs:
        raise ValueError("no training pairs: lower select thresholds or check synthesize counts")
    check_format(tokenizer, p.prompt_format)
    torch.manual_seed(p.seed)
    steps_per_epoch = math.ceil(len(train_pairs) / (p.batch_size * p.grad_accum))
    total_steps = max(1, math.ceil(steps_per_epoch * p.epochs))
    if p.warmup >= 1 and p.warmup >= total_steps:
        raise ValueError(
            f"train.warmup ({int(p.warmup)} steps) with {len(train_pairs)} pairs: the run has only "
            f"{total_steps} optimizer steps (train.batch_size {p.batch_size} x train.grad_accum "
            f"{p.grad_accum}, train.epochs {p.epochs}); lower warmup or use a fraction (< 1)"
        )
    cfg = DPOConfig(
        output_dir=str(work_dir),
        per_device_train_batch_size=p.batch_size,
        per_device_eval_batch_size=p.batch_size,
        gradient_accumulation_steps=p.grad_accum,
        learning_rate=p.lr,
        lr_scheduler_type=p.lr_scheduler,
        weight_decay=p.weight_decay,
        warmup_steps=p.warmup if p.warmup < 1 else int(p.warmup),
        num_train_epochs=p.epochs,
        beta=p.beta,
        loss_type=[p.loss_type],
        label_smoothing=p.label_smoothing,
        max_length=p.max_length,
        precompute_ref_log_probs=p.precompute_ref_log_probs,
        bf16=dtype == "bfloat16",
        use_cpu=not torch.cuda.is_available(),
        gradient_checkpointing=False,  # tiny models: recompute costs more than the memory it saves
        logging_steps=1,
        save_strategy="steps" if p.checkpoint_every else "no",
        save_steps=p.checkpoint_every or 500,
        save_total_limit=2,  # the newest may be half-written when killed; the one before is complete
        report_to="none",
        seed=p.seed,
        data_seed=p.seed,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )
    n_layers = int(model.config.num_hidden_layers)
    if p.lora_top_layers > n_layers:
        raise ValueError(f"train.lora_top_layers={p.lora_top_layers} but the model has {n_layers} layers")
    layers = list(range(n_layers - p.lora_top_layers, n_layers)) if p.lora_top_layers else None
    lora = LoraConfig(
        r=p.lora_r,
        lora_alpha=p.lora_alpha,
        lora_dropout=p.lora_dropout,
        target_modules=list(p.lora_targets),
        layers_to_transform=layers,
        task_type="CAUSAL_LM",
        bias="none",
    )
    lengths = length_report(tokenizer, train_pairs, p.prompt_format, p.max_length)
    if lengths["pairs_prompt_too_long"] == len(train_pairs):
        raise ValueError(
            f"train.max_length ({p.max_length} tokens): every one of the {len(train_pairs)} pairs has a "
            f"prompt that alone fills it (train.prompt_format {p.prompt_format!r}; the longest pair has "
            f"{lengths['longest_pair_tokens']} tokens); raise train.max_length"
        )
    if lengths["pairs_truncated"] or lengths["pairs_prompt_too_long"]:
        log.warning(
            "train: %d of %d pairs exceed train.max_length=%d tokens and are truncated; %d have a prompt "
            "that alone fills it and are dropped by trl",
            lengths["pairs_truncated"],
            len(train_pairs),
            p.max_length,
            lengths["pairs_prompt_too_long"],
        )
    train_ds = _dataset(to_training_rows(train_pairs, p.prompt_format), Path(work_dir) / "datasets" / "train")
    eval_ds = (
        _dataset(to_training_rows(val_pairs, p.prompt_format), Path(work_dir) / "datasets" / "eval")
        if val_pairs
        else None
    )
    trainer = DPOTrainer(
        model=model,
        args=cfg,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=_callbacks(probe, p.compass_every) + list(callbacks or []),
    )
    assert trainer.model is not None  # the model handed to it above
    trainable = sum(x.numel() for x in trainer.model.parameters() if x.requires_grad)
    resume = last_complete_checkpoint(work_dir) if p.checkpoint_every else None
    log.info(
        "train: %d pairs, %d steps (%d per epoch), %d trainable LoRA params%s",
        len(train_pairs),
        total_steps,
        steps_per_epoch,
        trainable,
        f"; resuming from {resume}" if resume else "",
    )
    before = {n: x.detach().clone() for n, x in trainer.model.named_parameters() if x.requires_grad}
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    train_s = time.time() - t0
    resumed_from = int(resume.name.split("-")[1]) if resume else None
    done_now = int(result.global_step) - (resumed_from or 0)
    summary: dict[str, Any] = {
        "pairs_train": len(train_pairs),
        "pairs_val": len(val_pairs),
        "steps": int(result.global_step),
        "resumed_from_step": resumed_from,
        "train_seconds": round(train_s, 1),
        "seconds_per_step": round(train_s / max(done_now, 1), 3),
        "trainable_params": int(trainable),
        "final_train_loss": float(result.training_loss),
        "prompt_format": p.prompt_format,
        **lengths,
    }
    after = dict(trainer.model.named_parameters())
    # every trainable (LoRA) tensor must have moved; a frozen one means a broken target list. The snapshot is taken
    # before train() loads a checkpoint, so after a resume this counts what moved over the whole run.
    summary["trainable_tensors"] = len(before)
    summary["trainable_tensors_unchanged"] = sum(torch.equal(v, after[n].detach()) for n, v in before.items())
    history = [
        {k: float(v) for k, v in h.items() if isinstance(v, int | float)} for h in trainer.state.log_history
    ]
    steps = [h for h in history if "loss" in h and "eval_loss" not in h]
    if steps:
        for k in ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected"):
            if k in steps[-1]:
                summary["last_" + k.replace("/", "_")] = steps[-1][k]
    if eval_ds is not None:
        ev = trainer.evaluate()
        for k in ("eval_loss", "eval_rewards/accuracies", "eval_rewards/margins"):
            if k in ev:
                summary[k.replace("/", "_")] = float(ev[k])
    compass = [h for h in history if "compass/economic" in h]
    if compass:
        summary["compass_trajectory"] = [
            {
                "step": int(h["step"]),
                "economic": round(h["compass/economic"], 4),
                "social": round(h["compass/social"], 4),
            }
            for h in compass
        ]
    summary["health"] = health(history, summary)
    return {"model": trainer.model, "summary": summary, "history": history}
