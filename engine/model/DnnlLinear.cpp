// DnnlLinear: the three products of a linear layer (forward, input and weight gradients) on
// oneDNN's sgemm instead of LibTorch's BLAS (see DnnlLinear.h).

#include "model/DnnlLinear.h"

#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <dlfcn.h>

#include <atomic>
#include <stdexcept>
#include <string>

namespace particle {

namespace dnnl_linear {

// oneDNN's C API (dnnl.h, not installed with Debian's runtime package): row-major
// C = alpha · op(A) · op(B) + beta · C; 0 on success. dnnl_dim_t is int64_t.
using Sgemm = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

// Looked up among the libraries already loaded (LibTorch's oneDNN), once.
Sgemm sgemm() {
  static const Sgemm f = reinterpret_cast<Sgemm>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  return f;
}

std::atomic<bool> enabled{true};

void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
          float beta, float *c, int64_t ldc) {
  const int status = sgemm()(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  if (status != 0)
    throw std::runtime_error("oneDNN's sgemm failed with status " + std::to_string(status) + " (" + std::to_string(m) +
                             " × " + std::to_string(k) + " by " + std::to_string(n) + ")");
}

class Linear : public torch::autograd::Function<Linear> {
public:
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x,
                               const torch::Tensor &weight, const torch::Tensor &bias) {
    const int64_t rows = x.size(0), in = x.size(1), out = weight.size(0);
    const torch::Tensor w = weight.contiguous();
    // x · wᵀ, then the bias added to every row. Not the bias as C with beta 1: oneDNN 2.6's sgemm
    // returns wrong sums for a single row that way (tst_model denseLinearMatchesTorch, "one row").
    torch::Tensor y = at::empty({rows, out}, x.options());
    gemm('N', 'T', rows, out, in, x.data_ptr<float>(), in, w.data_ptr<float>(), in, 0.0f, y.data_ptr<float>(), out);
    y.add_(bias);
    ctx->save_for_backward({x, w});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1];
    const torch::Tensor gy = grads[0].contiguous();
    const int64_t rows = x.size(0), in = x.size(1), out = w.size(0);
    torch::Tensor gx, gw, gb;
    if (ctx->needs_input_grad(0)) { // gy · w
      gx = at::empty({rows, in}, gy.options());
      gemm('N', 'N', rows, in, out, gy.data_ptr<float>(), out, w.data_ptr<float>(), in, 0.0f, gx.data_ptr<float>(), in);
    }
    if (ctx->needs_input_grad(1)) { // gyᵀ · x
      gw = at::empty({out, in}, gy.options());
      gemm('T', 'N', out, in, rows, gy.data_ptr<float>(), out, x.data_ptr<float>(), in, 0.0f, gw.data_ptr<float>(), in);
    }
    if (ctx->needs_input_grad(2))
      gb = gy.sum(0);
    return {gx, gw, gb};
  }
};

} // namespace dnnl_linear

void setDnnlLinearEnabled(bool on) {
  dnnl_linear::enabled = on;
}

bool dnnlLinearAvailable() {
  return dnnl_linear::sgemm() != nullptr;
}

torch::Tensor denseLinear(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias) {
  const bool fits = dnnl_linear::enabled && !at::autocast::is_cpu_enabled() && x.dim() == 2 && weight.dim() == 2 &&
                    x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == at::kFloat &&
                    weight.scalar_type() == at::kFloat && x.is_contiguous() && x.size(0) > 0 && x.size(1) > 0 &&
                    weight.size(1) == x.size(1) && weight.size(0) > 0 && bias.defined() && bias.device().is_cpu() &&
                    bias.scalar_type() == at::kFloat && bias.dim() == 1 && bias.size(0) == weight.size(0) &&
                    dnnlLinearAvailable();
  if (!fits)
    return torch::linear(x, weight, bias);
  return dnnl_linear::Linear::apply(x, weight, bias);
}

} // namespace particle
