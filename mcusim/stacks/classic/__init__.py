"""The classic path: a model as plain generated C, in the style of hand-written CMSIS-NN code.

:func:`build_classic` turns a :class:`~mcusim.frontend.graph.Graph` into four C files in a build
directory (plus ``weights.h``). Each operator's C comes from its spec's ``classic`` emitter
(mcusim/operators/, written with :mod:`.cgen`); :mod:`.generator` walks the graph,
:mod:`.files` writes the text and :mod:`.build` sizes, plans, builds and exports:

* ``weights.c`` -- every constant the kernels read, ``const`` so it stays in flash: int8
  weights, int32 biases, PReLU alphas, and the requantization multipliers and shifts (one
  pair per output channel where the model is per-channel), all computed on the host by
  the operators' ``prepare_*`` functions, the same numbers the numpy reference uses;
* ``model.c`` / ``model.h`` -- ``model_invoke()``: the kernel calls of ``kernels/include/
  mcu_nn.h`` in graph order, one block per layer under a comment naming the op, its shapes and
  quantization, with the deployment protocol's probes around each (kernels/include/mcusim.h);
* ``main.c`` -- ``main()``: pointers ``model_input<k>`` / ``model_output<k>`` to the I/O
  tensors in the arena, the INPUTS_READY probe (the host writes the inputs there, as a TFLM
  application writes ``input(0)->data``: no I/O buffers besides the arena), then
  ``model_invoke()`` between the INVOKE probes.

No interpreter, no flatbuffer, no allocation. Shape-only operators are resolved at generation
time: RESHAPE, EXPAND_DIMS and SQUEEZE make their output a view of the input's bytes; SHAPE,
and STRIDED_SLICE / PACK over values known on the host, are evaluated here and vanish;
a STRIDED_SLICE that selects one contiguous run of its input is a view too. Such folded ops
emit no code and no probes. A strided slice that is not a view and a float -> int8 QUANTIZE
(no mcu_nn kernel does either) become a short generated loop.

Activation memory -- the graph inputs and outputs included -- is one static arena
(``model_arena``) whose offsets come from
:mod:`mcusim.stacks.planner` (tensor lifetimes over the op sequence); each op's kernel scratch is one
more buffer live only during that op. Scratch sizes are computed **in C**, by the very
``mcu_*_get_buffer_size`` functions of the kernel flavour and core being built: a small sizing
program calls them for every op and runs in the simulator before the plan is made, so the plan
never mirrors a kernel's formula by hand (and a kernel that asks for more still fails cleanly
with MCU_ERR_BUFFER, which ``model_invoke`` returns as a status).

``kernels="cmsis-nn"`` makes the layers call Arm CMSIS-NN instead (the library built from a TFLM
tree by mcusim/stacks/cmsisnn.py; each spec's ``cmsis_nn`` emitter makes the calls TFLM's CMSIS-NN
kernels make); an op CMSIS-NN has no kernel for keeps its mcu_nn (opt) call and is listed in
``notes["fallbacks"]``.

Two generator options trade flash for speed. ``lut_activations``: pointwise activations (and
x * sigmoid(x)) become 256-entry tables built on the host. ``winograd``: every CONV_2D that
:func:`mcusim.stacks.winograd.supported` accepts (3x3, stride 1, dilation 1, ungrouped, constant
filter) with an output map of at least 4x4 (:func:`mcusim.stacks.winograd.worthwhile`: below that the
direct kernel is measured faster) calls ``mcu_conv_wino_s8`` with its filter transformed on the host and stored as int16
(32 bytes per (output, input) channel pair instead of 9); the other convolutions stay on
``mcu_conv_s8``. Every FULLY_CONNECTED with constant int8 weights and weights offset 0 and at
least 8 output rows and more than 1,024 MACs, depth not 4-16 (:func:`mcusim.stacks.winograd.fc_worthwhile`) calls
``mcu_fully_connected_wino_s8`` (Winograd's 1968 inner-product identity) with its per-row pair
sums computed here (:func:`mcusim.stacks.winograd.pair_sums`, 4 bytes per output row).

:func:`export_classic` writes the same sources, the kernel library, startup code, linker
script and a Makefile with mcusim's compiler flags, so ``make`` builds the same image.
"""

from .build import ClassicModel, build_classic, export_classic, generate_classic

__all__ = ["ClassicModel", "build_classic", "export_classic", "generate_classic"]
