/*
 * tflite_schema.h - the parts of TensorFlow Lite's schema.fbs the runtime reads: vtable slots
 * of each table (slot n is the n-th field of the table in schema.fbs), enum values, and the
 * builtin operator codes of the ops this runtime implements.
 */
#ifndef TFLITE_SCHEMA_H
#define TFLITE_SCHEMA_H

#define TFL_FILE_IDENTIFIER "TFL3"
#define TFL_SCHEMA_VERSION 3u

/* table Model */
enum { TFL_MODEL_VERSION = 0, TFL_MODEL_OPERATOR_CODES = 1, TFL_MODEL_SUBGRAPHS = 2,
       TFL_MODEL_BUFFERS = 4 };
/* table OperatorCode */
enum { TFL_OPCODE_DEPRECATED_BUILTIN = 0, TFL_OPCODE_BUILTIN = 3 };
/* table SubGraph */
enum { TFL_SUBGRAPH_TENSORS = 0, TFL_SUBGRAPH_INPUTS = 1, TFL_SUBGRAPH_OUTPUTS = 2,
       TFL_SUBGRAPH_OPERATORS = 3 };
/* table Tensor */
enum { TFL_TENSOR_SHAPE = 0, TFL_TENSOR_TYPE = 1, TFL_TENSOR_BUFFER = 2,
       TFL_TENSOR_QUANTIZATION = 4, TFL_TENSOR_IS_VARIABLE = 5,
       TFL_TENSOR_SPARSITY = 6 };
/* table QuantizationParameters */
enum { TFL_QUANT_SCALE = 2, TFL_QUANT_ZERO_POINT = 3, TFL_QUANT_DIMENSION = 6 };
/* table Buffer */
enum { TFL_BUFFER_DATA = 0, TFL_BUFFER_OFFSET = 1 };
/* table Operator */
enum { TFL_OP_OPCODE_INDEX = 0, TFL_OP_INPUTS = 1, TFL_OP_OUTPUTS = 2,
       TFL_OP_BUILTIN_OPTIONS = 4 };

/* enum TensorType */
enum { TFL_FLOAT32 = 0, TFL_INT32 = 2, TFL_UINT8 = 3, TFL_INT64 = 4, TFL_BOOL = 6,
       TFL_INT16 = 7, TFL_INT8 = 9 };

/* enum ActivationFunctionType, enum Padding */
enum { TFL_ACT_NONE = 0, TFL_ACT_RELU = 1, TFL_ACT_RELU_N1_TO_1 = 2, TFL_ACT_RELU6 = 3,
       TFL_ACT_TANH = 4 };
enum { TFL_PADDING_SAME = 0, TFL_PADDING_VALID = 1 };

/* enum BuiltinOperator (the ops this runtime has glue for) */
enum {
    TFL_OP_ADD = 0, TFL_OP_AVERAGE_POOL_2D = 1, TFL_OP_CONCATENATION = 2, TFL_OP_CONV_2D = 3,
    TFL_OP_DEPTHWISE_CONV_2D = 4, TFL_OP_DEQUANTIZE = 6, TFL_OP_FULLY_CONNECTED = 9,
    TFL_OP_LOGISTIC = 14, TFL_OP_MAX_POOL_2D = 17, TFL_OP_MUL = 18, TFL_OP_RELU = 19,
    TFL_OP_RELU6 = 21, TFL_OP_RESHAPE = 22, TFL_OP_SOFTMAX = 25, TFL_OP_TANH = 28,
    TFL_OP_CUSTOM = 32, TFL_OP_PAD = 34, TFL_OP_MEAN = 40, TFL_OP_SQUEEZE = 43,
    TFL_OP_UNIDIRECTIONAL_SEQUENCE_LSTM = 44, TFL_OP_STRIDED_SLICE = 45, TFL_OP_PRELU = 54,
    TFL_OP_EXPAND_DIMS = 70, TFL_OP_SHAPE = 77,
    TFL_OP_PACK = 83, TFL_OP_LEAKY_RELU = 98, TFL_OP_QUANTIZE = 114, TFL_OP_HARD_SWISH = 117,
};

/* Builtin options tables: slots of the fields the glue reads. */
enum { TFL_CONV_PADDING = 0, TFL_CONV_STRIDE_W = 1, TFL_CONV_STRIDE_H = 2,
       TFL_CONV_ACTIVATION = 3, TFL_CONV_DILATION_W = 4, TFL_CONV_DILATION_H = 5 };
enum { TFL_DW_PADDING = 0, TFL_DW_STRIDE_W = 1, TFL_DW_STRIDE_H = 2, TFL_DW_MULTIPLIER = 3,
       TFL_DW_ACTIVATION = 4, TFL_DW_DILATION_W = 5, TFL_DW_DILATION_H = 6 };
enum { TFL_POOL_PADDING = 0, TFL_POOL_STRIDE_W = 1, TFL_POOL_STRIDE_H = 2,
       TFL_POOL_FILTER_W = 3, TFL_POOL_FILTER_H = 4, TFL_POOL_ACTIVATION = 5 };
enum { TFL_FC_ACTIVATION = 0, TFL_FC_WEIGHTS_FORMAT = 1 };
enum { TFL_SOFTMAX_BETA = 0 };
enum { TFL_CONCAT_AXIS = 0, TFL_CONCAT_ACTIVATION = 1 };
enum { TFL_ADD_ACTIVATION = 0 };
enum { TFL_MUL_ACTIVATION = 0 };
enum { TFL_SLICE_BEGIN_MASK = 0, TFL_SLICE_END_MASK = 1, TFL_SLICE_ELLIPSIS_MASK = 2,
       TFL_SLICE_NEW_AXIS_MASK = 3, TFL_SLICE_SHRINK_MASK = 4, TFL_SLICE_OFFSET = 5 };
enum { TFL_SHAPE_OUT_TYPE = 0 };
enum { TFL_PACK_VALUES_COUNT = 0, TFL_PACK_AXIS = 1 };
enum { TFL_LEAKY_RELU_ALPHA = 0 };
enum { TFL_LSTM_ACTIVATION = 0, TFL_LSTM_CELL_CLIP = 1, TFL_LSTM_TIME_MAJOR = 3,
       TFL_LSTM_DIAGONAL_RECURRENT = 5 };

#endif /* TFLITE_SCHEMA_H */
