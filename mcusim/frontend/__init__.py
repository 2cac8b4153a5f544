"""The model front end: .tflite reader and IR, int8 arithmetic, numpy reference, graph facts."""
