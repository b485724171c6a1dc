"""The preference-pair format: string form (the published PoliTune sets' schema) and TRL's conversational form."""

from __future__ import annotations

from typing import Any

COLUMNS = ("prompt", "chosen", "rejected")


def to_conversational(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversational form TRL accepts: prompt as a user turn, chosen and rejected as assistant turns."""
    return [
        {"prompt": [{"role": "user", "content": p["prompt"]}],
         "chosen": [{"role": "assistant", "content": p["chosen"]}],
         "rejected": [{"role": "assistant", "content": p["rejected"]}]}
        for p in pairs
    ]
