/* Ends one instruction set's instantiation of gemm.inc in gemm.c: its parameters are undefined, so the
 * next set defines its own. (No include guard: included once per set.) */
#undef ISA
#undef GEMM_TARGET
#undef VB
#undef MRL
#undef MRM
#undef MRS
#undef KCB
