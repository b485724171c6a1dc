"""politune: the PoliTune method (Agiza, Mostagir, Reda; AIES 2024) as a library.

select -> annotate -> synthesize DPO pairs -> LoRA + DPO fine-tune -> political-compass evaluation.
The library knows nothing of DVC; stages/ wraps each step as a DVC stage. Click appears only in
politune/cli.py, the `politune` command (helpers outside the pipeline: check-params, profile, export, compass).
"""

__version__ = "0.1.0"
