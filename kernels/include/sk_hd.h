// sk_hd.h -- __host__ __device__ portability macro shared by implementation headers.
#pragma once
#if defined(__CUDACC__)
#define SK_HD __host__ __device__ __forceinline__
#else
#define SK_HD inline
#endif
