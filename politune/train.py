"""LoRA + DPO fine-tuning with trl's DPOTrainer and a peft adapter.

The reference model is the base with the adapter disabled (trl does this when given a peft config),
so there is no second copy in memory. Prompts use the model's chat template (conversational
examples). With `precompute_ref_log_probs` the frozen reference runs once per pair before training.

Assumes: pairs fit in `max_length` tokens (longer ones are truncated by trl, keep_start).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from politune.pairs import to_conversational
from politune.params import TrainParams

log = logging.getLogger(__name__)


class _LogCallback:
    """Collects trainer logs (loss, rewards) and forwards them to a sink (e.g. dvclive)."""

    def __init__(self, sink: Any | None = None):
        self.history: list[dict[str, float]] = []
        self.sink = sink

    def as_trainer_callback(self) -> Any:
        from transformers import TrainerCallback

        outer = self

        class CB(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
                if not logs:
                    return
                row = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
                row["step"] = state.global_step
                outer.history.append(row)
                if outer.sink is not None:
                    outer.sink(row)

        return CB()


def train_dpo(model: Any, tokenizer: Any, train_pairs: list[dict[str, Any]], val_pairs: list[dict[str, Any]],
              p: TrainParams, dtype: str, work_dir: str | Path, sink: Any | None = None) -> dict[str, Any]:
    """Train a LoRA adapter with DPO; return the peft model and a summary of the run."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from trl import DPOConfig, DPOTrainer

    if not train_pairs:
        raise ValueError("no training pairs: lower select thresholds or check synthesize counts")
    torch.manual_seed(p.seed)
    steps_per_epoch = math.ceil(len(train_pairs) / (p.batch_size * p.grad_accum))
    total_steps = max(1, math.ceil(steps_per_epoch * p.epochs))
    cfg = DPOConfig(
        output_dir=str(work_dir),
        per_device_train_batch_size=p.batch_size,
        per_device_eval_batch_size=p.batch_size,
        gradient_accumulation_steps=p.grad_accum,
        learning_rate=p.lr,
        lr_scheduler_type=p.lr_scheduler,
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
        save_strategy="no",
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
    lora = LoraConfig(r=p.lora_r, lora_alpha=p.lora_alpha, lora_dropout=p.lora_dropout,
                      target_modules=list(p.lora_targets), layers_to_transform=layers, task_type="CAUSAL_LM",
                      bias="none")
    cb = _LogCallback(sink)
    train_ds = Dataset.from_list(to_conversational(train_pairs))
    eval_ds = Dataset.from_list(to_conversational(val_pairs)) if val_pairs else None
    trainer = DPOTrainer(model=model, args=cfg, train_dataset=train_ds, eval_dataset=eval_ds,
                         processing_class=tokenizer, peft_config=lora, callbacks=[cb.as_trainer_callback()])
    trainable = sum(x.numel() for x in trainer.model.parameters() if x.requires_grad)
    log.info("train: %d pairs, %d steps (%d per epoch), %d trainable LoRA params", len(train_pairs),
             total_steps, steps_per_epoch, trainable)
    before = {n: x.detach().clone() for n, x in trainer.model.named_parameters() if x.requires_grad}
    t0 = time.time()
    result = trainer.train()
    train_s = time.time() - t0
    summary: dict[str, Any] = {
        "pairs_train": len(train_pairs), "pairs_val": len(val_pairs), "steps": int(result.global_step),
        "train_seconds": round(train_s, 1), "seconds_per_step": round(train_s / max(result.global_step, 1), 3),
        "trainable_params": int(trainable), "final_train_loss": float(result.training_loss),
    }
    after = dict(trainer.model.named_parameters())
    # health: every trainable (LoRA) tensor must have moved; a frozen one means a broken target list
    summary["trainable_tensors"] = len(before)
    summary["trainable_tensors_unchanged"] = sum(torch.equal(v, after[n].detach()) for n, v in before.items())
    steps = [h for h in cb.history if "loss" in h]
    if steps:
        last = steps[-1]
        for k in ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected"):
            if k in last:
                summary["last_" + k.replace("/", "_")] = last[k]
    if eval_ds is not None:
        ev = trainer.evaluate()
        for k in ("eval_loss", "eval_rewards/accuracies", "eval_rewards/margins"):
            if k in ev:
                summary[k.replace("/", "_")] = float(ev[k])
    # health: a loss stuck at ln 2 means chosen and rejected are indistinguishable to the model
    summary["loss_stuck_near_ln2"] = bool(steps and abs(steps[-1]["loss"] - math.log(2)) < 0.01)
    return {"model": trainer.model, "summary": summary, "history": cb.history}
