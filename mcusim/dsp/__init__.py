"""The audio front-end on the simulated MCU: MFCC and log-mel frames computed by Arm CMSIS-DSP
(arm_mfcc_<dt>; arm_rfft + arm_cmplx_mag + mel dot products + arm_vlog) for a spec, with the
window, mel and DCT tables made on the host, checked against the ``cmsisdsp`` Python package,
measured per frame and added to a model's cost per inference (docs/frontend.md).

    spec.py       the front-end spec (TOML) and its validator (one line per error)
    tables.py     window, sparse mel filter bank, DCT matrix; float -> Q15 / Q31
    reference.py  the input frame (.wav, .npy, test tone), the host cmsisdsp reference, exact errors
    run.py        app.c + tables.c, the firmware, run_frontend (one frame), end_to_end (+ a model)
"""
