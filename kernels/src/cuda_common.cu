#include "cuda_common.cuh"

namespace sk {
int require_cuda() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return set_error(SK_ERR_NO_CUDA, "no usable CUDA device: %s", cudaGetErrorString(e));
  }
  if (n <= 0) return set_error(SK_ERR_NO_CUDA, "no CUDA device");
  return SK_OK;
}
}  // namespace sk

extern "C" {
SK_API int sk_built_with_cuda(void) { return 1; }
SK_API int sk_cuda_available(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) { cudaGetLastError(); return 0; }
  return n > 0 ? 1 : 0;
}
SK_API int sk_stream_synchronize(void* stream) {
  SK_CUDA_TRY(cudaStreamSynchronize((cudaStream_t)stream));
  return SK_OK;
}
SK_API int sk_malloc(void** ptr, size_t bytes) {
  if (!ptr) return sk::set_error(SK_ERR_INVALID, "sk_malloc: ptr is NULL");
  if (int st = sk::require_cuda()) return st;
  SK_CUDA_TRY(cudaMalloc(ptr, bytes ? bytes : 1));
  return SK_OK;
}
SK_API int sk_free(void* ptr) {
  if (!ptr) return SK_OK;
  SK_CUDA_TRY(cudaFree(ptr));
  return SK_OK;
}
SK_API int sk_memcpy_h2d(void* dst, const void* src, size_t bytes) {
  SK_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  return SK_OK;
}
SK_API int sk_memcpy_d2h(void* dst, const void* src, size_t bytes) {
  SK_CUDA_TRY(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  return SK_OK;
}
}
