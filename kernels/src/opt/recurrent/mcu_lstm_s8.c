/* mcu_lstm_s8 - the element-wise cell and hidden updates are the reference code; the gate
 * matmuls it calls are the optimized mcu_lstm_gates_s8. */
#include "../../ref/recurrent/mcu_lstm_s8.c"
