// Parameter validation for varlen attention (shared by the GPU entry point
// and the CPU reference; host-testable).
#include "common.h"

extern "C" SK_API int sk_varlen_attn_check_params(const sk_attn_params* p) {
  using sk::set_error;
  if (!p) return set_error(SK_ERR_INVALID, "varlen_attn: params is NULL");
  if (p->dtype != SK_F16 && p->dtype != SK_BF16)
    return set_error(SK_ERR_UNSUPPORTED, "varlen_attn: dtype %d unsupported (need SK_F16 or SK_BF16)", p->dtype);
  if (p->batch < 0) return set_error(SK_ERR_INVALID, "varlen_attn: batch %d < 0", p->batch);
  if (p->head_dim != 64 && p->head_dim != 128 && p->head_dim != 256)
    return set_error(SK_ERR_UNSUPPORTED, "varlen_attn: head_dim %d unsupported (64, 128, 256)", p->head_dim);
  if (p->num_heads <= 0 || p->num_heads_kv <= 0)
    return set_error(SK_ERR_INVALID, "varlen_attn: num_heads %d / num_heads_kv %d must be > 0", p->num_heads, p->num_heads_kv);
  if (p->num_heads % p->num_heads_kv != 0)
    return set_error(SK_ERR_INVALID, "varlen_attn: num_heads %d not a multiple of num_heads_kv %d", p->num_heads, p->num_heads_kv);
  if (p->total_q < 0 || p->max_seqlen_q < 0 || p->max_seqlen_k < 0)
    return set_error(SK_ERR_INVALID, "varlen_attn: negative total_q/max_seqlen");
  if (p->batch == 0) return SK_OK;
  if (!p->cu_seqlens_q) return set_error(SK_ERR_INVALID, "varlen_attn: cu_seqlens_q is NULL");
  if (p->total_q > 0 && (!p->q || !p->out)) return set_error(SK_ERR_INVALID, "varlen_attn: q/out is NULL");
  const bool paged = p->page_table != nullptr || p->k_cache != nullptr || p->v_cache != nullptr;
  if (paged) {
    if (!p->page_table || !p->k_cache || !p->v_cache)
      return set_error(SK_ERR_INVALID, "varlen_attn: paged KV needs page_table, k_cache and v_cache together");
    if (p->k || p->v)
      return set_error(SK_ERR_UNSUPPORTED, "varlen_attn: both k/v and a paged k_cache/v_cache given; pass one or the other");
    if (p->page_size <= 0 || p->page_size % 16 != 0)
      return set_error(SK_ERR_UNSUPPORTED, "varlen_attn: page_size %d unsupported (must be a positive multiple of 16)", p->page_size);
    if (p->num_pages <= 0 || p->max_pages_per_seq <= 0)
      return set_error(SK_ERR_INVALID, "varlen_attn: num_pages %d / max_pages_per_seq %d must be > 0", p->num_pages, p->max_pages_per_seq);
    if (!p->cu_seqlens_k && !p->seqused_k)
      return set_error(SK_ERR_INVALID, "varlen_attn: paged KV needs cu_seqlens_k or seqused_k for the key lengths");
    if ((int64_t)p->max_seqlen_k > (int64_t)p->max_pages_per_seq * p->page_size)
      return set_error(SK_ERR_INVALID, "varlen_attn: max_seqlen_k %d exceeds max_pages_per_seq*page_size %lld", p->max_seqlen_k, (long long)p->max_pages_per_seq * p->page_size);
  } else {
    if (!p->cu_seqlens_k) return set_error(SK_ERR_INVALID, "varlen_attn: cu_seqlens_k is NULL");
    if (p->total_k > 0 && (!p->k || !p->v)) return set_error(SK_ERR_INVALID, "varlen_attn: k/v is NULL");
    if (p->page_size != 0 && p->page_size % 16 != 0)
      return set_error(SK_ERR_UNSUPPORTED, "varlen_attn: page_size %d given without a page table", p->page_size);
  }
  if (p->num_splits < 0 || p->num_splits > 128)
    return set_error(SK_ERR_INVALID, "varlen_attn: num_splits %d out of range [0,128]", p->num_splits);
  return SK_OK;
}
