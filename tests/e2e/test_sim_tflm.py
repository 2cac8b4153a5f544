"""A user's own TFLM build through `mcusim sim --window`: Invoke-only numbers.

The application (tests/firmware/tflm_invoke.cc, the reference kernels of the TFLM tree mcusim is
pointed at, newlib's rdimon for printf) is compiled here with TFLM's own flags
(/work/shared/third_party/README.md) and linked with the vendor-style start-up and script. Slow:
about 50 C++ files."""

from __future__ import annotations

import hashlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from simhelpers import ROOT, needs_gcc
from vendorfw import FIRMWARE

from mcusim.build.toolchain import cache_dir
from mcusim.cli import main
from mcusim.frontend.graphinfo import default_inputs
from mcusim.frontend.reference import run_graph
from mcusim.frontend.tflite import load_model
from mcusim.stacks.tflmtree import DOWNLOADS, TflmTreeError, find_tree

pytestmark = [needs_gcc, pytest.mark.slow]
ARCH = ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mthumb", "-mfloat-abi=hard"]
CXX = ["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics", "-fno-unwind-tables",
       "-ffunction-sections", "-fdata-sections", "-funsigned-char", "-O2", "-DTF_LITE_STATIC_MEMORY", "-DNDEBUG",
       "-DTF_LITE_STRIP_ERROR_STRINGS", "-DTF_LITE_MCU_DEBUG_LOG", "-DARMCM4",
       '-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="ARMCM4.h"']
KERNELS = ("fully_connected", "fully_connected_common", "softmax", "softmax_common", "kernel_util",
           "micro_tensor_utils", "decompress", "decompress_common")


def _compile(src: Path, inc: list[str], out: Path) -> Path:
    flags = [*ARCH, *CXX, *inc]
    key = hashlib.sha256((" ".join(flags) + str(src)).encode() + src.read_bytes()).hexdigest()[:20]
    obj = out / f"{src.stem}-{key}.o"
    if not obj.exists():
        tmp = obj.with_suffix(".tmp.o")
        subprocess.run(["arm-none-eabi-g++", *flags, "-c", str(src), "-o", str(tmp)], check=True, capture_output=True)
        tmp.rename(obj)
    return obj


@pytest.fixture(scope="module")
def tflm_elf(tmp_path_factory):
    try:
        tree = find_tree(cwd=ROOT).root
    except TflmTreeError as e:
        pytest.skip(str(e))
    d = tree / DOWNLOADS
    notes = tree.parent / "tflm-build"
    inc = [f"-I{tree}", f"-I{d}", f"-I{d}/gemmlowp", f"-I{d}/flatbuffers/include", f"-I{d}/ruy",
           f"-I{d}/cmsis/Cortex_DFP/Device/ARMCM4/Include", f"-I{d}/cmsis/CMSIS/Core/Include"]
    core = (notes / "sources-core.txt").read_text().split()
    kernels = [s for s in (notes / "sources-kernels-ref.txt").read_text().split()
               if Path(s).stem in KERNELS and "/cmsis_nn/" not in s]
    work = tmp_path_factory.mktemp("tflm")
    model = work / "model_data.cc"
    data = (ROOT / "models" / "kws_fc.tflite").read_bytes()
    model.write_text("alignas(16) extern const unsigned char model_data[] = {"
                     + ",".join(str(b) for b in data) + "};\n")
    objs_dir = cache_dir() / "test-objects"
    objs_dir.mkdir(parents=True, exist_ok=True)
    srcs = [tree / s for s in core + kernels] + [FIRMWARE / "tflm_invoke.cc", model]
    with ThreadPoolExecutor(2) as pool:
        objs = list(pool.map(lambda s: _compile(s, inc, objs_dir), srcs))
    start = work / "startup.o"
    subprocess.run(["arm-none-eabi-gcc", *ARCH, "-O2", "-c", str(FIRMWARE / "startup_vendor.c"), "-o", str(start)], check=True)
    elf = work / "tflm_invoke.elf"
    subprocess.run(["arm-none-eabi-g++", *ARCH, str(start), *map(str, objs), "-T", str(FIRMWARE / "vendor.ld"),
                    "--specs=nano.specs", "--specs=rdimon.specs", "-Wl,--gc-sections", "-lm", "-o", str(elf)],
                   check=True, capture_output=True)
    return elf


def test_invoke_window_of_a_users_tflm_build(tflm_elf, tmp_path):
    out = tmp_path / "r.json"
    assert main(["sim", str(tflm_elf), "--window", "tflite::MicroInterpreter::Invoke", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    graph = load_model(ROOT / "models" / "kws_fc.tflite")
    expected = run_graph(graph, default_inputs(graph))[0].reshape(-1)
    assert rep["stdout"] == " ".join(str(int(v)) for v in expected) + "\n"  # printf through rdimon
    assert rep["exit_code"] == 0 and rep["window"]["occurrences"] == 1
    # The probes around Invoke() also time the call and the return: a few cycles more.
    begin, end = rep["probes"][0][0], rep["probes"][1][0]
    assert 0 < (end - begin) - rep["cycles"] < 40
    names = {f["name"] for f in rep["functions"]}
    assert "_ZN6tflite16MicroInterpreter6InvokeEv" in names
    assert not any("AllocateTensors" in n for n in names)  # start-up is outside the window
    assert rep["cycles"] < rep["window"]["run_cycles"] / 2
    assert rep["ram_breakdown"]["heap"] > 0  # printf's buffers come from malloc
