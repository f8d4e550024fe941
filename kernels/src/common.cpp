#include "common.h"
#include <cstdio>

namespace sk {
static thread_local std::string g_last_error = "";

int set_error(int status, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  g_last_error = buf;
  return status;
}
size_t dtype_size(int dtype) { return dtype == SK_F32 ? 4 : 2; }
}  // namespace sk

extern "C" {
SK_API const char* sk_last_error(void) { return sk::g_last_error.c_str(); }
SK_API int sk_abi_version(void) { return SK_ABI_VERSION; }
}
