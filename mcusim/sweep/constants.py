"""Names shared by the sweep modules: paths, flavours, outcomes, database columns."""

from __future__ import annotations

from ..errors import McusimError

PATHS = ("tinyml", "classic")
CLASSIC_ML = "classic-ml"
"""The path of a classic ML model's cells (mcusim.classicml.run.PATH); its library is the cell's kernels."""
FLAVOURS = ("ref", "opt")
CMSIS_NN = "cmsis-nn"  # classic path only: a tinyml x cmsis-nn cell ends as an error naming why
SPEC_KEYS = ("models", "boards", "paths", "kernels", "libraries", "budgets")
OK, DOES_NOT_FIT, ERROR = "ok", "does_not_fit", "error"
HEADROOM_OK = "fits with headroom"
DB_SCHEMA = "mcusim.sweepdb/1"

METRICS: dict[str, str] = {
    # report field -> SQL type; the headline figures kept as columns beside the full report
    "flash_bytes": "INTEGER", "ram_peak_bytes": "INTEGER", "cycles": "INTEGER",
    "instructions": "INTEGER", "latency_ms": "REAL", "energy_uj": "REAL",
    "dispatch_share": "REAL", "dsp_mac_share": "REAL", "kernel_cycles": "INTEGER",
    "startup_cycles": "INTEGER", "startup_ms": "REAL",
}
KEY_COLUMNS = ("model", "model_hash", "board", "op_point", "path", "kernels")
COLUMNS: dict[str, str] = {
    "model": "TEXT", "model_hash": "TEXT", "model_name": "TEXT", "board": "TEXT", "op_point": "TEXT",
    "path": "TEXT", "kernels": "TEXT", "status": "TEXT", "message": "TEXT",
    "core": "TEXT", "clock_hz": "INTEGER", "board_flash": "INTEGER", "board_ram": "INTEGER",
    **METRICS,
    "flash_use": "REAL", "ram_use": "REAL", "verdict": "TEXT", "within_budget": "INTEGER",
    "breaches": "TEXT", "seconds": "REAL", "worker": "TEXT", "finished_at": "TEXT",
}
BYTE_COLUMNS = {"flash_bytes", "ram_peak_bytes", "board_flash", "board_ram"}
PARETO_METRICS = ("flash_bytes", "ram_peak_bytes", "latency_ms", "energy_uj")


class SweepAborted(McusimError):
    """The sweep stopped before every cell ran (a worker died, the cluster went away);
    every finished cell is in the database and ``--resume`` runs the rest."""

    exit_code = 1


