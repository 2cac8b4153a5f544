"""Cycle cost tables, one module per core, found by file name (``cortex_m4.py`` for
``cortex-m4``). Each module defines ``MODEL``, a :class:`mcusim.costmodel.CoreModel`."""
