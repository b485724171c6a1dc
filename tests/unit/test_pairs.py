"""A preference example rendered with each supported prompt format: ChatML (SmolLM2), Llama 3, Mistral and Gemma
chat templates (the last two insist on strict user/assistant alternation and refuse a system turn), and Alpaca."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from politune.models import load_tokenizer
from politune.pairs import ALPACA, TemplateError, render_pair

PAIR = {
    "prompt": "Should the minimum wage rise?",
    "chosen": "Yes, workers need it.",
    "rejected": "No, it kills jobs.",
}

# Functional equivalents of the published templates, written for this test (no download).
LLAMA3 = (
    "{% for message in messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
    "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
    "{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)


@pytest.fixture()
def tok(tiny_model_dir: Path):  # noqa: ANN201
    t = copy.deepcopy(load_tokenizer(tiny_model_dir))
    t.bos_token = "<|endoftext|>"
    return t


@pytest.mark.parametrize(
    ("name", "template", "prompt_end", "answer_end"),
    [
        ("chatml", None, "<|im_start|>assistant\n", "<|im_end|>\n"),
        ("llama3", LLAMA3, "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>"),
        ("mistral", MISTRAL, "[/INST]", "<|im_end|>"),
        ("gemma", GEMMA, "<start_of_turn>model\n", "<end_of_turn>\n"),
    ],
)
def test_chat_templates_render_a_pair(
    tok,
    name: str,
    template: str | None,
    prompt_end: str,  # noqa: ANN001
    answer_end: str,
) -> None:
    if template is not None:
        tok.chat_template = template
    r = render_pair(tok, PAIR, "chat")
    assert PAIR["prompt"] in r["prompt"] and r["prompt"].endswith(prompt_end), r
    for side in ("chosen", "rejected"):
        assert PAIR[side] in r[side] and r[side].endswith(answer_end), (side, r[side])
        assert PAIR["prompt"] not in r[side]  # the answer is only the completion after the prompt
    if name in ("mistral", "gemma"):  # strict templates do refuse what our rows never contain
        with pytest.raises(Exception, match="alternate"):
            tok.apply_chat_template(
                [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], tokenize=False
            )


def test_alpaca_format_and_missing_chat_template(tok) -> None:  # noqa: ANN001
    r = render_pair(tok, PAIR, "alpaca")
    assert r["prompt"] == ALPACA.format(prompt=PAIR["prompt"]) and r["prompt"].endswith("### Response:\n")
    assert r["chosen"] == PAIR["chosen"] + tok.eos_token
    tok.chat_template = None
    with pytest.raises(TemplateError, match="set train.prompt_format: alpaca"):
        render_pair(tok, PAIR, "chat")
    assert render_pair(tok, PAIR, "alpaca")["rejected"].endswith(tok.eos_token)
