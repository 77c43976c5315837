#ifndef KLTOP_LIBFUZZER_H
#define KLTOP_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program that keeps its own main: runs `callback` on every input, with
/// libFuzzer's command line in argc/argv. Linked in by swiftc's -sanitize=fuzzer; kltop-fuzz calls it only
/// when built with -DFUZZING.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
