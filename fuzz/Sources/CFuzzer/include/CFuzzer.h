// libFuzzer's driver, called from each target's main: SwiftPM links executables with
// `--defsym main=<Target>_main`, so libFuzzer's own main cannot be the entry point.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
