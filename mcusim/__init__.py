"""mcusim: instruction-level Cortex-M simulation and cost estimation for int8 neural networks."""

__version__ = "0.1.0"
