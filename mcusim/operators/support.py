"""Which operators each stack and kernel flavour runs, and what each lacks (``mcusim ops``).

Read from the code itself, never from a hand-kept list:

- the operator registry (mcusim/operators/): what any model may contain;
- tinyml: each spec's registration (``Tinyml``) and the ``mcu_*_s8`` kernels its glue file calls;
- classic: each spec's ``classic`` emitter (the kernels named in its source and in the helpers
  it calls) and the ops the generator folds or turns into views (``view``, ``foldable``);
- classic/cmsis-nn: each spec's ``cmsis_nn`` emitter, and the reasons it (and the generator's
  ``cmsis_nn_refusal``) returns when CMSIS-NN cannot take an op (the generator then calls
  mcusim's opt kernel and names it in the report);
- opt: the sentences of each optimized kernel's header comment that say when it runs the
  reference kernel instead (e.g. depth multiplier > 1), and the kernels that have no optimized
  file at all (the opt flavour builds their reference file);
- tflm: the TFLM tree's ``MicroMutableOpResolver`` methods and the ``Register_*`` functions of
  its ``kernels/`` and ``kernels/cmsis_nn/`` (needs the tree; without one the columns say so).
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path
from typing import Any

from ..build.toolchain import KERNELS
from . import get

STACKS = ("tinyml/ref", "tinyml/opt", "classic/ref", "classic/opt", "classic/cmsis-nn", "tflm/ref", "tflm/cmsis-nn")
_KERNEL_NAME = re.compile(r"\b(mcu_(?!rt_)\w+_(?:[su]8|s16|f32))\b")
_REF_SENTENCE = re.compile(r"reference kernel|plain C", re.I)


def _opt_limits(kernel: str) -> list[str]:
    """Sentences of the optimized kernel's header comment that say when it runs the
    reference code instead; for a kernel without an optimized file (the opt flavour links its
    reference file, deploy.kernel_sources), that."""
    from ..stacks.deploy import reference_only_kernels

    if kernel in reference_only_kernels():
        return [f"{kernel}: no optimized file: the reference kernel in both flavours"]
    files = sorted((KERNELS / "src" / "opt").rglob(f"{kernel}.c"))
    if not files:
        return []
    text = files[0].read_text(errors="replace")
    m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
    if not m:
        return []
    prose = " ".join(line.strip().lstrip("*").strip() for line in m.group(1).splitlines())
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z])", prose)
    return [f"{kernel}: {s.strip()}" for s in sentences if _REF_SENTENCE.search(s)]


def _kernels_in(text: str) -> list[str]:
    names = {k for k in _KERNEL_NAME.findall(text) if not k.endswith("_get_buffer_size")}
    return sorted(names)


def _for_op(op: str, kernels: list[str]) -> list[str]:
    """Of the kernels a shared emitter or glue file names, those of ``op``: the kernel whose
    name is the longest part of the op's (mcu_max_pool_s8 for MAX_POOL_2D), with its variants
    (mcu_conv_wino_s8 of mcu_conv_s8); all of them when none matches by name."""
    name = op.lower().replace("average", "avg").replace("_", "")
    stems = {k: k[len("mcu_"):].rsplit("_", 1)[0] for k in kernels}
    matching = [k for k, st in stems.items() if st.replace("_", "") in name]
    if not matching:
        return kernels
    best = max(matching, key=lambda k: len(stems[k]))
    return [k for k in kernels if stems[k] == stems[best] or stems[k].startswith(stems[best] + "_")]


def _tinyml(op: str) -> dict[str, dict[str, Any]] | None:
    from ..stacks.tinyml import RUNTIME_DIR, glue_of

    g = glue_of(op)
    if g is None:
        return None
    register, glue = g.registration, g.glue
    kernels = _for_op(op, _kernels_in((RUNTIME_DIR / "ops" / glue).read_text(errors="replace")))
    how = ", ".join(kernels) if kernels else ("a view of its input (no copy)" if g.alias else "glue only")
    out = {}
    for flavour in ("ref", "opt"):
        limits = [x for k in kernels for x in _opt_limits(k)] if flavour == "opt" else []
        out[f"tinyml/{flavour}"] = {"supported": True, "runs": f"{register} ({glue}): {how}", "limits": limits}
    return out


ACCESSORS = frozenset({"data", "optional", "const", "ptr", "describe"})
"""Generator methods every emitter calls to reach tensors: their errors are not the op's limits."""


def _classic_emitter(op: str) -> tuple[list[str], str, list[str]] | None:
    """For ``op`` on the classic path: the mcu_nn kernels its emitter calls, how it is handled
    when it has no emitter (folded, a view), and the cases it refuses (the ModelError messages
    of the emitter and of the generator methods it calls); None when it has no emitter."""
    from ..stacks.classic.generator import foldable, is_view

    spec = get(op)
    emitter = spec.classic if spec is not None else None
    if emitter is None:
        if is_view(op):
            return [], "a view of its input (no code)", []
        if foldable(op):
            return [], "folded at build time (no code)", []
        return None
    sources = _sources(emitter)
    kernels = _for_op(op, _kernels_in("\n".join(sources)))
    refused = [m for src in sources for m in _raised(src)]
    return kernels, "", [f"refused: {m}" for m in dict.fromkeys(refused)]


def _sources(fn: Any) -> list[str]:
    """The source of an emitter and of the helpers it calls: the generator's methods
    (``gen.<name>(``, its accessors aside) and the functions it passes the generator to
    (``<name>(gen, ...``, e.g. a family's shared ``binary_step``)."""
    from ..stacks.classic.generator import Generator

    source = inspect.getsource(fn)
    methods = {a or b for a, b in re.findall(r"self\.(\w+)\(|gen\.(\w+)\(", source)} - ACCESSORS
    helpers = [getattr(Generator, n) for n in sorted(methods) if callable(getattr(Generator, n, None))]
    for name in dict.fromkeys(re.findall(r"(?<![\w.])(\w+)\(gen[,)]", source)):
        helper = getattr(fn, "__globals__", {}).get(name)
        if inspect.isfunction(helper) and helper is not fn:
            helpers.append(helper)
    return [source, *(inspect.getsource(h) for h in helpers)]


def _raised(source: str) -> list[str]:
    """The messages of the ``raise ModelError(...)`` statements in ``source``."""
    out = []
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                and getattr(node.exc.func, "id", "") == "ModelError" and node.exc.args):
            text = _text(node.exc.args[0])
            if text:
                out.append(text)
    return out


def _text(v: ast.expr) -> str | None:
    """A string constant or f-string (its fields as ‹name›); string concatenations joined."""
    if isinstance(v, ast.Constant) and isinstance(v.value, str):
        return v.value
    if isinstance(v, ast.JoinedStr):
        return "".join(p.value if isinstance(p, ast.Constant) else _field(p.value) for p in v.values)
    if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Add):
        a, b = _text(v.left), _text(v.right)
        return a + b if a is not None and b is not None else None
    return None


def _field(e: ast.expr) -> str:
    """An f-string field as a reader sees it: ``{gen.t[i].dtype}`` -> ``‹dtype›``, ``{len(widths)}`` ->
    ``‹widths›`` (the last name in the expression that is not a call)."""
    calls = {n.func.id if isinstance(n.func, ast.Name) else n.func.attr
             for n in ast.walk(e) if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))}
    names = [n.id if isinstance(n, ast.Name) else n.attr
             for n in ast.walk(e) if isinstance(n, (ast.Name, ast.Attribute))]
    names = [n for n in names if n not in calls]
    # ast.walk is breadth-first: the outermost attribute comes first
    return f"‹{names[0] if names else ast.unparse(e)}›"


def _returned_reasons(fn: Any) -> list[str]:
    """The string constants (f-strings with their fields as ‹name›) that ``fn`` and the helpers
    it passes the generator to return."""
    out = []
    for source in _sources(fn):
        for node in ast.walk(ast.parse(textwrap.dedent(source))):
            if isinstance(node, ast.Return) and node.value is not None:
                text = _text(node.value)
                if text is not None:
                    out.append(text)
    return out


def _classic(op: str) -> dict[str, dict[str, Any]]:
    from ..stacks.classic.generator import cmsis_nn_refusal

    found = _classic_emitter(op)
    if found is None:
        none = {"supported": False, "runs": "", "limits": ["the classic generator has no emitter for it"]}
        return {f"classic/{k}": dict(none) for k in ("ref", "opt", "cmsis-nn")}
    kernels, special, refused = found
    how = special or ", ".join(kernels) or "generated C"
    out = {"classic/ref": {"supported": True, "runs": how, "limits": list(refused)},
           "classic/opt": {"supported": True, "runs": how,
                           "limits": [*refused, *(x for k in kernels for x in _opt_limits(k))]}}
    spec = get(op)
    emitter = spec.cmsis_nn if spec is not None else None
    if special:
        out["classic/cmsis-nn"] = {"supported": True, "runs": special, "limits": []}
    elif emitter is None:
        out["classic/cmsis-nn"] = {"supported": True, "runs": f"mcusim opt: {how}",
                                   "limits": [*refused, _returned_reasons(cmsis_nn_refusal)[0].replace("‹type›", op)
                                              .replace("‹dtype›", "int8 or 16x8" if spec is not None and spec.int16_paths
                                                       else "int8")
                                              + " (falls back to mcusim's opt kernel)"]}
    else:
        calls = _arm_calls(op, emitter)
        reasons = _returned_reasons(emitter)
        out["classic/cmsis-nn"] = {"supported": True, "runs": "CMSIS-NN " + ", ".join(calls),
                                   "limits": [*refused, *(f"mcusim's opt kernel when {r.replace('_‹type›_', f'_{op.lower()}_')}"
                                                        for r in reasons)]}
    return out


def _tokens(op: str) -> set[str]:
    return {t for t in op.lower().replace("average", "avg").split("_") if not t[0].isdigit()}


def _arm_calls(op: str, emitter: Any) -> list[str]:
    """The CMSIS-NN functions ``emitter`` calls for ``op``. An emitter shared by several ops
    (CONV_2D and DEPTHWISE_CONV_2D) names all their functions: keep those with a word of this
    op's name the others lack, else drop those with such a word of another's."""
    from . import registry

    calls = sorted({c + "*" if c.endswith("_") else c  # arm_concatenation_s8_{axis}
                    for c in re.findall(r"\barm_\w+_s(?:8|16)\w*", inspect.getsource(emitter))
                    if not c.endswith("_get_buffer_size")})
    others = [o for o, s in registry().items() if s.cmsis_nn is emitter and o != op]
    if not others:
        return calls
    mine = _tokens(op) - set().union(*(_tokens(o) for o in others))
    theirs = set().union(*(_tokens(o) for o in others)) - _tokens(op)
    has = lambda c, words: any(w in c.replace("_", "") for w in words)  # noqa: E731
    own = [c for c in calls if has(c, mine)]
    return own or [c for c in calls if not has(c, theirs)]


def _tflm(op: str, tree: Any) -> dict[str, dict[str, Any]]:
    from ..stacks.tflm import MICRO, _registers, known_prepare_refusals, resolver_methods

    methods = resolver_methods(tree.root)
    ref = _registers(tree.root, "")
    port = _registers(tree.root, "cmsis_nn")
    sup = methods.get(op)
    if sup is None or sup.register not in ref:
        why = "no MicroMutableOpResolver method" if sup is None else f"no kernel file defines {sup.register}()"
        none = {"supported": False, "runs": "", "limits": [why]}
        return {"tflm/ref": dict(none), "tflm/cmsis-nn": dict(none)}
    rel = lambda p: str(Path(p).relative_to(MICRO / "kernels"))  # noqa: E731
    out = {"tflm/ref": {"supported": True, "runs": f"{sup.method}: {rel(ref[sup.register])}", "limits": []}}
    if sup.register in port:
        refused = known_prepare_refusals(tree).get(op)
        out["tflm/cmsis-nn"] = {"supported": True, "runs": f"{sup.method}: {rel(port[sup.register])}",
                                "limits": [refused] if refused else []}
    else:
        out["tflm/cmsis-nn"] = {"supported": True, "runs": f"{sup.method}: {rel(ref[sup.register])}",
                                "limits": ["no cmsis_nn/ port: TFLM's reference kernel"]}
    return out


def ops_table(tflm_dir: str | Path | None = None) -> dict[str, Any]:
    """The ``mcusim.ops/1`` report: per operator the front end accepts, for each stack whether
    it runs, what runs it, and its limits. The tflm columns need a TFLM tree (``tflm_dir``,
    MCUSIM_TFLM_DIR or the config); without one they are ``null`` and ``tflm_missing`` says why."""
    from ..frontend.validate import supported_ops
    from ..stacks.tflmtree import TflmTreeError, find_tree

    try:
        tree = find_tree(tflm_dir)
        missing = None
    except TflmTreeError as e:
        tree, missing = None, str(e)
    rows = []
    for op in supported_ops():
        stacks: dict[str, Any] = {}
        stacks.update(_tinyml(op) or {f"tinyml/{k}": {"supported": False, "runs": "",
                                                       "limits": ["not in the runtime's op registry"]}
                                      for k in ("ref", "opt")})
        stacks.update(_classic(op))
        stacks.update(_tflm(op, tree) if tree is not None else {"tflm/ref": None, "tflm/cmsis-nn": None})
        rows.append({"op": op, "stacks": {s: stacks[s] for s in STACKS}})
    from ..stacks.classic.generator import cmsis_nn_refusal

    return {"schema": "mcusim.ops/1", "stacks": list(STACKS), "ops": rows,
            "tflm_tree": str(tree.root) if tree is not None else None, "tflm_missing": missing,
            "notes": [
                "Every stack runs only the operators of the registry (mcusim/operators/): the front end refuses any other.",
                "classic/cmsis-nn, any op: mcusim's opt kernel when "
                + "; or when ".join(_returned_reasons(cmsis_nn_refusal)[1:]),
                "opt kernels on cores without the DSP extension (Cortex-M0+, M3) are the reference kernels.",
            ]}


def _cell(c: dict[str, Any] | None) -> str:
    if c is None:
        return "no tree"
    if not c["supported"]:
        return "—"
    return "yes" + (f" ({len(c['limits'])} limit{'s' if len(c['limits']) > 1 else ''})" if c["limits"] else "")


def ops_markdown(table: dict[str, Any]) -> str:
    """docs/ops.md: the table, then what runs each op and each limit, stack by stack."""
    stacks = table["stacks"]
    out = ["# Operators per stack", "",
           "Generated by `mcusim ops --markdown docs/ops.md` from the operator registry and the code it names "
           "(mcusim/operators/support.py says how); tests/unit/test_ops.py fails when this file is out of date.", "",
           "| op | " + " | ".join(f"`{s}`" for s in stacks) + " |", "|---|" + "---|" * len(stacks)]
    for row in table["ops"]:
        out.append(f"| {row['op']} | " + " | ".join(_cell(row["stacks"][s]) for s in stacks) + " |")
    out += ["", "— : not supported; yes (N limits): runs, with the cases listed below handled another way.", ""]
    if table["tflm_missing"]:
        out += [f"The tflm columns need a TensorFlow Lite Micro tree: {table['tflm_missing']}", ""]
    out += [f"- {n}" for n in table["notes"]] + [""]
    for s in stacks:
        out += [f"## `{s}`", "", "| op | runs | limits |", "|---|---|---|"]
        for row in table["ops"]:
            c = row["stacks"][s]
            if c is None:
                continue
            runs = c["runs"].replace("|", "\\|") if c["supported"] else "—"
            limits = "<br>".join(x.replace("|", "\\|") for x in c["limits"])
            out.append(f"| {row['op']} | {runs} | {limits} |")
        out.append("")
    return "\n".join(out)
