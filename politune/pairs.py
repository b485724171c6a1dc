"""The preference-pair format: string form (the published PoliTune sets' schema), TRL's conversational form,
and the two prompt formats training can use.

- `chat` (default): the model's own chat template. TRL renders conversational rows itself: the prompt with
  the generation prompt, then prompt + answer, and trains on the difference. Templates that insist on strict
  user/assistant alternation (Mistral, Gemma) accept these rows: one user turn, one assistant turn, no system
  turn. `render_pair` renders a row the way TRL does, so a test can check each template.
- `alpaca`: the Alpaca instruction template that the original PoliTune torchtune recipe used; TRL gets plain
  strings and appends the tokenizer's EOS to each answer.
"""

from __future__ import annotations

from typing import Any, Literal

from politune.records import Pair

PromptFormat = Literal["chat", "alpaca"]

# The Alpaca template without input (Taori et al. 2023, Apache-2.0), as torchtune's AlpacaToMessages renders it.
ALPACA = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{prompt}\n\n### Response:\n"
)


class TemplateError(ValueError):
    """The tokenizer cannot render a preference row in the requested prompt format."""


def to_conversational(pairs: list[Pair]) -> list[dict[str, Any]]:
    """The conversational form TRL accepts: prompt as a user turn, chosen and rejected as assistant turns."""
    return [
        {
            "prompt": [{"role": "user", "content": p["prompt"]}],
            "chosen": [{"role": "assistant", "content": p["chosen"]}],
            "rejected": [{"role": "assistant", "content": p["rejected"]}],
        }
        for p in pairs
    ]


def to_alpaca(pairs: list[Pair]) -> list[dict[str, Any]]:
    """String rows with the prompt wrapped in the Alpaca template (TRL appends EOS to chosen and rejected)."""
    return [
        {"prompt": ALPACA.format(prompt=p["prompt"]), "chosen": p["chosen"], "rejected": p["rejected"]}
        for p in pairs
    ]


def to_training_rows(pairs: list[Pair], fmt: PromptFormat) -> list[dict[str, Any]]:
    return to_conversational(pairs) if fmt == "chat" else to_alpaca(pairs)


def check_format(tokenizer: Any, fmt: PromptFormat, where: str = "the model") -> None:
    """Fail before training when the format cannot be rendered, naming the param that fixes it."""
    if fmt == "chat" and not getattr(tokenizer, "chat_template", None):
        raise TemplateError(
            f"train.prompt_format is 'chat' but {where} has no chat template (a base model?); "
            "set train.prompt_format: alpaca"
        )
    if fmt == "alpaca" and not getattr(tokenizer, "eos_token", None):
        raise TemplateError(
            f"train.prompt_format is 'alpaca' but {where}'s tokenizer has no EOS token to end "
            "the answers with"
        )


def render_pair(tokenizer: Any, pair: Pair, fmt: PromptFormat) -> dict[str, str]:
    """The text TRL trains on for one pair: {prompt, chosen, rejected}, answers as the suffix after the prompt.

    Raises TemplateError when the template refuses the turns or renders the prompt differently on its own
    than inside prompt + answer (then the model would train on a context it never sees at inference).
    """
    check_format(tokenizer, fmt)
    if fmt == "alpaca":
        eos = tokenizer.eos_token
        row = to_alpaca([pair])[0]
        return {"prompt": row["prompt"], "chosen": row["chosen"] + eos, "rejected": row["rejected"] + eos}
    row = to_conversational([pair])[0]
    try:
        prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        out = {"prompt": prompt}
        for side in ("chosen", "rejected"):
            full = tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False)
            if not full.startswith(prompt):
                raise TemplateError(
                    f"the chat template renders the prompt differently inside prompt + {side}: "
                    f"{prompt!r} is not a prefix of {full!r}"
                )
            out[side] = full[len(prompt) :]
    except TemplateError:
        raise
    except Exception as e:  # jinja2 raise_exception(...) in strict templates
        raise TemplateError(f"the chat template refused a user/assistant pair: {e}") from e
    return out
