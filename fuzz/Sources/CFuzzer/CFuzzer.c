// Declarations only (CFuzzer.h); the driver itself comes from libFuzzer (-sanitize=fuzzer).
#include "CFuzzer.h"
