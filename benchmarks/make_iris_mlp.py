"""The int8 MLP of docs/classic-ml.md's same-task comparison: 4-16-16-3 on iris (features scaled
by 1/8), trained with TensorFlow and converted to a fully int8 .tflite (int8 input and output).

    python benchmarks/classic_ml.py --no-write --save DIR     # DIR/iris.npz: features and labels
    /opt/tfenv/bin/python benchmarks/make_iris_mlp.py DIR/iris.npz DIR/iris_mlp.tflite
"""

import sys

import numpy as np
import tensorflow as tf

data = np.load(sys.argv[1])
x, y = (data["x"] / 8.0).astype(np.float32), data["y"]
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(16, activation="relu"),
                             tf.keras.layers.Dense(16, activation="relu"), tf.keras.layers.Dense(3)])
model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(x, y, epochs=300, verbose=0)
print("float accuracy", model.evaluate(x, y, verbose=0)[1], file=sys.stderr)
conv = tf.lite.TFLiteConverter.from_keras_model(model)
conv.optimizations = [tf.lite.Optimize.DEFAULT]
conv.representative_dataset = lambda: ([s[None]] for s in x)
conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
conv.inference_input_type = conv.inference_output_type = tf.int8
with open(sys.argv[2], "wb") as f:
    f.write(conv.convert())
