// common.h -- internal helpers (error state) shared by all translation units.
#pragma once
#include <string>
#include <cstdarg>
#include "sheriff_kernels.h"

namespace sk {
int set_error(int status, const char* fmt, ...);
inline int ok() { return SK_OK; }
size_t dtype_size(int dtype);
}  // namespace sk
