"""Design-space sweeps: every combination of models x boards x paths x kernel flavours, built
and simulated on a local process pool or a Dask cluster, each finished cell written at once to
an SQLite results database that ``mcusim query`` reads back (tables, CSV, cheapest part,
Pareto fronts, SVG scatter plots).

A sweep spec is TOML, model paths relative to the spec::

    models  = ["../models/*.tflite", "extra/my_model.tflite"]   # files or globs
    boards  = ["stm32f411ce", "stm32l476rg@8mhz", "stm32g071rb"] # NAME, NAME@OP, NAME@*, "*"
    paths   = ["tinyml", "classic"]                             # default: both
    kernels = ["opt", "ref"]                                    # default: ["opt"]; also "cmsis-nn" (classic)
    libraries = ["emlearn", "mcusim"]   # classic ML models (.skops, .onnx) instead of paths x kernels: their code
                                        # generators (default: every library that runs the model); path classic-ml
    [budgets]                                                   # optional, keys of budget.py
    max_flash = "64K"
    max_ram = "16K"

A cell's result is ``ok`` (with the full ``mcusim.run/1`` report), ``does_not_fit`` (the image
is larger than the part: a result, not a failure) or ``error`` (any other McusimError, with
its one-line message). Cells are keyed by model file + content hash, board, operating point,
path and kernels, so ``--resume`` skips what a database already holds and a changed model is
measured again.
"""



from .constants import (  # noqa: F401
    BYTE_COLUMNS,
    CMSIS_NN,
    COLUMNS,
    DB_SCHEMA,
    FLAVOURS,
    HEADROOM_OK,
    KEY_COLUMNS,
    METRICS,
    PARETO_METRICS,
    PATHS,
    SPEC_KEYS,
    SweepAborted,
)
from .engines import (  # noqa: F401
    CellFn,
    DaskEngine,
    Engine,
    InlineEngine,
    ProcessEngine,
    default_workers,
    execute,
    make_engine,
    run_cell,
)
from .plot import AXIS_TITLES, PATH_COLOURS, pareto_svg  # noqa: F401
from .query import (  # noqa: F401
    CSV_FIELDS,
    DEFAULT_ORDER,
    cheapest,
    dominates,
    label_models,
    mark_pareto,
    pareto_flags,
    parse_where,
    query,
    query_json,
    to_csv,
)
from .render import escape_markup, render_cheapest, render_rows  # noqa: F401
from .run import SweepSummary, run_sweep  # noqa: F401
from .spec import Cell, Spec, default_db, load_spec  # noqa: F401
from .store import ResultsDB, cell_row  # noqa: F401
