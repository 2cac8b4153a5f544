"""Classic machine learning on the simulated MCU: scikit-learn trees, forests, naive Bayes,
linear models and SVMs, loaded from a skops or ONNX-ML file (never unpickled) or a fitted
estimator, turned into C by a real MCU library (emlearn, Arm CMSIS-DSP) or mcusim's own code,
built for the board's core, run on N samples and measured with the same report as networks.

    model.py    the loaders (skops, ONNX-ML, estimator) -> ClassicModel, the host reference
    codegen.py  ClassicModel + library -> the generated C (model.c, app.c) and its libraries
    run.py      build, run, read the predictions back, compare with the reference, report
"""
